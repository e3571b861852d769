package dev.intervirt.agent.dispatch.handler;

import dev.intervirt.agent.dispatch.Progress;
import dev.intervirt.agent.protocol.Request.RemovePortForwarding;
import jakarta.enterprise.context.ApplicationScoped;

import java.util.List;

/** RemovePortForwarding: the guest port's forward goes. Lane: the guest port only. */
@ApplicationScoped
public class RemovePortForwardingHandler extends NetworkCallHandler<RemovePortForwarding> {

    @Override
    public List<String> lanes(RemovePortForwarding request) {
        return List.of(ForwardLanes.of(request.protocol(), request.externalPort()));
    }

    @Override
    protected void call(RemovePortForwarding request, Progress progress) {
        network.removeForward(request.externalPort(), request.protocol());
    }
}
