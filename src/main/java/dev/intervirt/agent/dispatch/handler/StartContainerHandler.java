package dev.intervirt.agent.dispatch.handler;

import dev.intervirt.agent.container.ContainerService;
import dev.intervirt.agent.dispatch.Progress;
import dev.intervirt.agent.dispatch.RequestHandler;
import dev.intervirt.agent.protocol.Reply;
import dev.intervirt.agent.protocol.Request.StartContainer;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import java.util.List;

/** StartContainer: runs the computer with its network in place. Lane: its id. */
@ApplicationScoped
public class StartContainerHandler implements RequestHandler<StartContainer> {

    @Inject
    ContainerService service;

    @Override
    public Class<StartContainer> type() {
        return StartContainer.class;
    }

    @Override
    public Reply handle(StartContainer request, Progress progress, List<Runnable> afterReply) {
        service.start(request.id());
        return Reply.done(request.uuid());
    }
}
