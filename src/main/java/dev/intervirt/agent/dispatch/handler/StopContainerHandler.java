package dev.intervirt.agent.dispatch.handler;

import dev.intervirt.agent.container.ContainerService;
import dev.intervirt.agent.dispatch.Progress;
import dev.intervirt.agent.dispatch.RequestHandler;
import dev.intervirt.agent.protocol.Reply;
import dev.intervirt.agent.protocol.Request.StopContainer;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import java.util.List;

/** StopContainer: graceful, then hard, within the client's timeout. Lane: its id. */
@ApplicationScoped
public class StopContainerHandler implements RequestHandler<StopContainer> {

    @Inject
    ContainerService service;

    @Override
    public Class<StopContainer> type() {
        return StopContainer.class;
    }

    @Override
    public Reply handle(StopContainer request, Progress progress, List<Runnable> afterReply) {
        service.stop(request.id());
        return Reply.done(request.uuid());
    }
}
