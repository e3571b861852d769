package dev.intervirt.agent.dispatch.handler;

import dev.intervirt.agent.dispatch.Progress;
import dev.intervirt.agent.protocol.Request.StopContainer;
import jakarta.enterprise.context.ApplicationScoped;

/** StopContainer: graceful, then hard, within the client's timeout. Lane: its id. */
@ApplicationScoped
public class StopContainerHandler extends ContainerCallHandler<StopContainer> {

    @Override
    protected void call(StopContainer request, Progress progress) {
        containers.stop(request.id());
    }
}
