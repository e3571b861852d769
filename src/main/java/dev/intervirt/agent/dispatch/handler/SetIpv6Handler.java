package dev.intervirt.agent.dispatch.handler;

import dev.intervirt.agent.network.NetworkService;
import dev.intervirt.agent.dispatch.Progress;
import dev.intervirt.agent.dispatch.RequestHandler;
import dev.intervirt.agent.protocol.Reply;
import dev.intervirt.agent.protocol.Request.SetIpv6;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import java.util.List;

/** IDWithNewIpv6: the computer's IPv6 and its peers' routes to it. Lane: its id. */
@ApplicationScoped
public class SetIpv6Handler implements RequestHandler<SetIpv6> {

    @Inject
    NetworkService service;

    @Override
    public Class<SetIpv6> type() {
        return SetIpv6.class;
    }

    @Override
    public Reply handle(SetIpv6 request, Progress progress, List<Runnable> afterReply) {
        service.setIpv6(request.id(), request.address());
        return Reply.done(request.uuid());
    }
}
