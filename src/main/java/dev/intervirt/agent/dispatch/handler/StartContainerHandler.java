package dev.intervirt.agent.dispatch.handler;

import dev.intervirt.agent.dispatch.Progress;
import dev.intervirt.agent.protocol.Request.StartContainer;
import jakarta.enterprise.context.ApplicationScoped;

/** StartContainer: runs the computer with its network in place. Lane: its id. */
@ApplicationScoped
public class StartContainerHandler extends ContainerCallHandler<StartContainer> {

    @Override
    protected void call(StartContainer request, Progress progress) {
        containers.start(request.id());
    }
}
