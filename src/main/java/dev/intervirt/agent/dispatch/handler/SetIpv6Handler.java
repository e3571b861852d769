package dev.intervirt.agent.dispatch.handler;

import dev.intervirt.agent.dispatch.Progress;
import dev.intervirt.agent.protocol.Request.SetIpv6;
import jakarta.enterprise.context.ApplicationScoped;

/** IDWithNewIpv6: the computer's IPv6 and its peers' routes to it. Lane: its id. */
@ApplicationScoped
public class SetIpv6Handler extends NetworkCallHandler<SetIpv6> {

    @Override
    protected void call(SetIpv6 request, Progress progress) {
        network.setIpv6(request.id(), request.address());
    }
}
