package dev.intervirt.agent.dispatch.handler;

import dev.intervirt.agent.dispatch.Progress;
import dev.intervirt.agent.protocol.Request.RemoveContainer;
import jakarta.enterprise.context.ApplicationScoped;

/** RemoveContainer: streams progress while the computer, its links and forwards go. Lane: its id. */
@ApplicationScoped
public class RemoveContainerHandler extends ContainerCallHandler<RemoveContainer> {

    @Override
    protected void call(RemoveContainer request, Progress progress) {
        containers.remove(request.id(), progress);
    }
}
