package dev.intervirt.agent.dispatch.handler;

import dev.intervirt.agent.dispatch.Progress;
import dev.intervirt.agent.protocol.Request.AddPortForwarding;
import jakarta.enterprise.context.ApplicationScoped;

import java.util.List;

/** AddPortForwarding: a guest port DNATed to the computer's port. Lanes: its id and the guest port. */
@ApplicationScoped
public class AddPortForwardingHandler extends NetworkCallHandler<AddPortForwarding> {

    @Override
    public List<String> lanes(AddPortForwarding request) {
        return List.of(request.id(), ForwardLanes.of(request.protocol(), request.externalPort()));
    }

    @Override
    protected void call(AddPortForwarding request, Progress progress) {
        network.addForward(request.id(), request.internalPort(), request.externalPort(), request.protocol());
    }
}
