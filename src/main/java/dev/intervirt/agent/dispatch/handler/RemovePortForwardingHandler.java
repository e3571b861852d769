package dev.intervirt.agent.dispatch.handler;

import dev.intervirt.agent.dispatch.Progress;
import dev.intervirt.agent.dispatch.RequestHandler;
import dev.intervirt.agent.network.NetworkService;
import dev.intervirt.agent.protocol.Reply;
import dev.intervirt.agent.protocol.Request.RemovePortForwarding;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import java.util.List;

/** RemovePortForwarding: the guest port's forward goes. Lane: the guest port only. */
@ApplicationScoped
public class RemovePortForwardingHandler implements RequestHandler<RemovePortForwarding> {

    @Inject
    NetworkService service;

    @Override
    public Class<RemovePortForwarding> type() {
        return RemovePortForwarding.class;
    }

    @Override
    public List<String> lanes(RemovePortForwarding request) {
        return List.of(ForwardLanes.of(request.protocol(), request.externalPort()));
    }

    @Override
    public Reply handle(RemovePortForwarding request, Progress progress, List<Runnable> afterReply) {
        service.removeForward(request.externalPort(), request.protocol());
        return Reply.done(request.uuid());
    }
}
