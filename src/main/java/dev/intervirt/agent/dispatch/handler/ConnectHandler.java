package dev.intervirt.agent.dispatch.handler;

import dev.intervirt.agent.dispatch.Progress;
import dev.intervirt.agent.protocol.Request.Connect;
import jakarta.enterprise.context.ApplicationScoped;

/** Connect: a link between two computers. Lanes: both ids. */
@ApplicationScoped
public class ConnectHandler extends NetworkCallHandler<Connect> {

    @Override
    protected void call(Connect request, Progress progress) {
        network.connect(request.id1(), request.id2());
    }
}
