package dev.intervirt.agent.state;

import dev.intervirt.agent.container.ContainerService;
import dev.intervirt.agent.host.Firewall;
import dev.intervirt.agent.host.HelperProcesses;
import dev.intervirt.agent.host.HostRoutes;
import dev.intervirt.agent.host.Hypervisor;
import dev.intervirt.agent.host.OverlayRootfs;
import dev.intervirt.agent.network.NetworkService;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import java.net.InetAddress;
import java.util.HashSet;
import java.util.Set;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Makes the host agree with the stored topology at start: the network and tables exist, every
 * container's firewall elements, routes, links and forwards are in place, containers meant to
 * run are running with their addresses, and whatever the agent owns that the topology does not
 * know (a half-made domain, a stray rootfs) is removed.
 */
@ApplicationScoped
public class Reconciler {

    private static final Logger LOG = Logger.getLogger(Reconciler.class.getName());

    @Inject
    Topology topology;
    @Inject
    Hypervisor hypervisor;
    @Inject
    Firewall firewall;
    @Inject
    OverlayRootfs rootfs;
    @Inject
    NetworkService network;
    @Inject
    HostRoutes routes;
    @Inject
    ContainerService containers;

    public void reconcile() {
        hypervisor.ensureNetwork();
        firewall.install();
        Set<String> known = new HashSet<>();
        // Once more right before the elements are replaced (the first sweep runs at process start).
        HelperProcesses.killOrphans();
        // One transaction: elements a killed agent added but never saved go, the stored ones stay.
        firewall.replaceElements(() -> {
            for (ContainerRecord c : topology.containers()) {
                network.attachFirewall(c);
            }
            for (Link l : topology.links()) {
                firewall.link(topology.get(l.a()).port(), topology.get(l.b()).port());
            }
            for (PortForward f : topology.forwards()) {
                firewall.addForward(f.protocol(), f.externalPort(), topology.get(f.containerId()).ipv4(), f.internalPort());
            }
        });
        Set<InetAddress> addresses = new HashSet<>();
        for (ContainerRecord c : topology.containers()) {
            known.add(c.id());
            network.attachRoutes(c);
            addresses.add(c.ipv4());
            addresses.add(c.ipv6());
        }
        for (InetAddress stray : routes.existing()) {
            if (!addresses.contains(stray)) {
                LOG.info("removing orphan host route " + stray.getHostAddress());
                routes.remove(stray);
            }
        }
        removeOrphans(known);
        for (ContainerRecord c : topology.containers()) {
            try {
                containers.restore(c);
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "cannot restore container " + c.id() + ": " + e.getMessage(), e);
            }
        }
        LOG.info("reconciled " + known.size() + " container(s), " + topology.links().size() + " link(s), "
                + topology.forwards().size() + " forward(s)");
    }

    private void removeOrphans(Set<String> known) {
        for (String domain : hypervisor.ownedDomains()) {
            String id = hypervisor.containerIdOf(domain);
            if (!known.contains(id)) {
                LOG.info("removing orphan domain " + domain);
                hypervisor.undefine(domain);
            }
        }
        for (String id : rootfs.existing()) {
            if (!known.contains(id)) {
                LOG.info("removing orphan files of " + id);
                rootfs.delete(id);
            }
        }
    }
}
