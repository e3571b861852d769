package dev.intervirt.agent.dispatch.handler;

import dev.intervirt.agent.network.NetworkService;
import dev.intervirt.agent.dispatch.Progress;
import dev.intervirt.agent.dispatch.RequestHandler;
import dev.intervirt.agent.protocol.Reply;
import dev.intervirt.agent.protocol.Request.SetIpv4;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import java.util.List;

/** IDWithNewIpv4: the computer's IPv4 and its peers' routes to it. Lane: its id. */
@ApplicationScoped
public class SetIpv4Handler implements RequestHandler<SetIpv4> {

    @Inject
    NetworkService service;

    @Override
    public Class<SetIpv4> type() {
        return SetIpv4.class;
    }

    @Override
    public Reply handle(SetIpv4 request, Progress progress, List<Runnable> afterReply) {
        service.setIpv4(request.id(), request.address());
        return Reply.done(request.uuid());
    }
}
