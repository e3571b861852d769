package dev.intervirt.agent.dispatch.handler;

import dev.intervirt.agent.network.NetworkService;
import dev.intervirt.agent.dispatch.Progress;
import dev.intervirt.agent.dispatch.RequestHandler;
import dev.intervirt.agent.protocol.Reply;
import dev.intervirt.agent.protocol.Request.Connect;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import java.util.List;

/** Connect: a link between two computers. Lanes: both ids. */
@ApplicationScoped
public class ConnectHandler implements RequestHandler<Connect> {

    @Inject
    NetworkService service;

    @Override
    public Class<Connect> type() {
        return Connect.class;
    }

    @Override
    public Reply handle(Connect request, Progress progress, List<Runnable> afterReply) {
        service.connect(request.id1(), request.id2());
        return Reply.done(request.uuid());
    }
}
