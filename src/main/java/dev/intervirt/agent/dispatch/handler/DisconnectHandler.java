package dev.intervirt.agent.dispatch.handler;

import dev.intervirt.agent.network.NetworkService;
import dev.intervirt.agent.dispatch.Progress;
import dev.intervirt.agent.dispatch.RequestHandler;
import dev.intervirt.agent.protocol.Reply;
import dev.intervirt.agent.protocol.Request.Disconnect;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import java.util.List;

/** Disconnect: ends a link at once. Lanes: both ids. */
@ApplicationScoped
public class DisconnectHandler implements RequestHandler<Disconnect> {

    @Inject
    NetworkService service;

    @Override
    public Class<Disconnect> type() {
        return Disconnect.class;
    }

    @Override
    public Reply handle(Disconnect request, Progress progress, List<Runnable> afterReply) {
        service.disconnect(request.id1(), request.id2());
        return Reply.done(request.uuid());
    }
}
