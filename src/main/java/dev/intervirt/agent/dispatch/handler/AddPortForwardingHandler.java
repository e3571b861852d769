package dev.intervirt.agent.dispatch.handler;

import dev.intervirt.agent.dispatch.Progress;
import dev.intervirt.agent.protocol.Request.AddPortForwarding;
import dev.intervirt.agent.ssh.SshGateways;
import jakarta.enterprise.context.ApplicationScoped;

import java.util.List;

/** AddPortForwarding: a guest port DNATed to the computer's port. Lanes: its id and the guest port. */
@ApplicationScoped
public class AddPortForwardingHandler extends NetworkCallHandler<AddPortForwarding> {

    @Override
    public List<String> lanes(AddPortForwarding request) {
        return List.of(request.id(), ForwardLanes.of(request.protocol(), request.externalPort()));
    }

    /** A forward of the SSH port opens a gateway (and, the first time, the agent's SSH server): not quick. */
    @Override
    public boolean quick(AddPortForwarding request) {
        return !SshGateways.handles(request.protocol(), request.internalPort());
    }

    @Override
    protected void call(AddPortForwarding request, Progress progress) {
        network.addForward(request.id(), request.internalPort(), request.externalPort(), request.protocol());
    }
}
