package dev.intervirt.agent.dispatch.handler;

import dev.intervirt.agent.network.NetworkService;
import dev.intervirt.agent.dispatch.Progress;
import dev.intervirt.agent.dispatch.RequestHandler;
import dev.intervirt.agent.protocol.Reply;
import dev.intervirt.agent.protocol.Request.SetInternetAccess;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import java.util.List;

/** SetInternetAccess: default routes and NAT of one computer. Lane: its id. */
@ApplicationScoped
public class SetInternetAccessHandler implements RequestHandler<SetInternetAccess> {

    @Inject
    NetworkService service;

    @Override
    public Class<SetInternetAccess> type() {
        return SetInternetAccess.class;
    }

    @Override
    public Reply handle(SetInternetAccess request, Progress progress, List<Runnable> afterReply) {
        service.setInternet(request.id(), request.enabled());
        return Reply.done(request.uuid());
    }
}
