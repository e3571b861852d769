package dev.intervirt.agent.dispatch.handler;

import dev.intervirt.agent.dispatch.Progress;
import dev.intervirt.agent.protocol.Request.SetIpv4;
import jakarta.enterprise.context.ApplicationScoped;

/** IDWithNewIpv4: the computer's IPv4 and its peers' routes to it. Lane: its id. */
@ApplicationScoped
public class SetIpv4Handler extends NetworkCallHandler<SetIpv4> {

    @Override
    protected void call(SetIpv4 request, Progress progress) {
        network.setIpv4(request.id(), request.address());
    }
}
