package dev.intervirt.agent.dispatch.handler;

import dev.intervirt.agent.dispatch.Progress;
import dev.intervirt.agent.protocol.Request.Disconnect;
import jakarta.enterprise.context.ApplicationScoped;

/** Disconnect: ends a link at once. Lanes: both ids. */
@ApplicationScoped
public class DisconnectHandler extends NetworkCallHandler<Disconnect> {

    @Override
    protected void call(Disconnect request, Progress progress) {
        network.disconnect(request.id1(), request.id2());
    }
}
