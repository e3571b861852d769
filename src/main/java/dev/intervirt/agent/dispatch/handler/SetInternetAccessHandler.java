package dev.intervirt.agent.dispatch.handler;

import dev.intervirt.agent.dispatch.Progress;
import dev.intervirt.agent.protocol.Request.SetInternetAccess;
import jakarta.enterprise.context.ApplicationScoped;

/** SetInternetAccess: default routes and NAT of one computer. Lane: its id. */
@ApplicationScoped
public class SetInternetAccessHandler extends NetworkCallHandler<SetInternetAccess> {

    @Override
    protected void call(SetInternetAccess request, Progress progress) {
        network.setInternet(request.id(), request.enabled());
    }
}
