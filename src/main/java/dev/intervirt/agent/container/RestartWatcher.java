package dev.intervirt.agent.container;

import dev.intervirt.agent.dispatch.RequestDispatcher;
import dev.intervirt.agent.host.Hypervisor;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

/**
 * Listens for domain starts that the agent did not make (libvirt restarting a container after
 * {@code reboot} inside it) and queues the re-application of its network on the container's lane.
 */
@ApplicationScoped
public class RestartWatcher {

    @Inject
    Hypervisor hypervisor;
    @Inject
    RequestDispatcher dispatcher;
    @Inject
    ContainerService containers;

    public void watch() {
        hypervisor.onDomainStarted((domain, kind) -> {
            String id = hypervisor.containerIdOf(domain);
            dispatcher.runInLane(id, "re-applying the network after a restart",
                    () -> containers.reapplyAfterRestart(id, kind == Hypervisor.StartKind.REBOOTED));
        });
    }
}
