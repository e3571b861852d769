package dev.intervirt.agent.dispatch.handler;

import dev.intervirt.agent.container.ContainerService;
import dev.intervirt.agent.dispatch.Progress;
import dev.intervirt.agent.dispatch.RequestHandler;
import dev.intervirt.agent.protocol.Reply;
import dev.intervirt.agent.protocol.Request.RemoveContainer;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import java.util.List;

/** RemoveContainer: streams progress while the computer, its links and forwards go. Lane: its id. */
@ApplicationScoped
public class RemoveContainerHandler implements RequestHandler<RemoveContainer> {

    @Inject
    ContainerService service;

    @Override
    public Class<RemoveContainer> type() {
        return RemoveContainer.class;
    }

    @Override
    public Reply handle(RemoveContainer request, Progress progress, List<Runnable> afterReply) {
        service.remove(request.id(), progress);
        return Reply.done(request.uuid());
    }
}
