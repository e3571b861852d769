package dev.intervirt.agent.dispatch.handler;

import dev.intervirt.agent.dispatch.Progress;
import dev.intervirt.agent.dispatch.RequestHandler;
import dev.intervirt.agent.network.NetworkService;
import dev.intervirt.agent.protocol.Reply;
import dev.intervirt.agent.protocol.Request.AddPortForwarding;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import java.util.List;

/** AddPortForwarding: a guest port DNATed to the computer's port. Lanes: its id and the guest port. */
@ApplicationScoped
public class AddPortForwardingHandler implements RequestHandler<AddPortForwarding> {

    @Inject
    NetworkService service;

    @Override
    public Class<AddPortForwarding> type() {
        return AddPortForwarding.class;
    }

    @Override
    public List<String> lanes(AddPortForwarding request) {
        return List.of(request.id(), ForwardLanes.of(request.protocol(), request.externalPort()));
    }

    @Override
    public Reply handle(AddPortForwarding request, Progress progress, List<Runnable> afterReply) {
        service.addForward(request.id(), request.internalPort(), request.externalPort(), request.protocol());
        return Reply.done(request.uuid());
    }
}
