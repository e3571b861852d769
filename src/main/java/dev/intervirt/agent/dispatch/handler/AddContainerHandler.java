package dev.intervirt.agent.dispatch.handler;

import dev.intervirt.agent.container.ContainerService;
import dev.intervirt.agent.dispatch.Progress;
import dev.intervirt.agent.protocol.Reply;
import dev.intervirt.agent.protocol.Request.AddContainer;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import java.util.List;

/** AddContainer: defines the computer (stopped); the reply may note a changed MAC. Lane: its id. */
@ApplicationScoped
public class AddContainerHandler extends TypedHandler<AddContainer> {

    @Inject
    ContainerService service;

    @Override
    public Reply handle(AddContainer request, Progress progress, List<Runnable> afterReply) {
        String note = service.add(request);
        return note == null ? Reply.done(request.uuid()) : Reply.doneWithNote(request.uuid(), note);
    }
}
