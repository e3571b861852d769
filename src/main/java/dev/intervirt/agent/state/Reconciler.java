package dev.intervirt.agent.state;

import dev.intervirt.agent.container.ContainerService;
import dev.intervirt.agent.dispatch.StepTimer;
import dev.intervirt.agent.host.BridgePorts;
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
import java.util.List;
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
    @Inject
    BridgePorts bridgePorts;
    @Inject
    dev.intervirt.agent.ssh.SshGateways ssh;

    public void reconcile() {
        StepTimer steps = new StepTimer("reconcile");
        // Before any computer starts: its domain bind-mounts these tools.
        ssh.prepareTools();
        steps.lap("computer tools");
        // Once more right before the elements are replaced (the first sweep runs at process start).
        HelperProcesses.killOrphans();
        applyNetwork();
        steps.lap("network");
        Set<String> known = new HashSet<>();
        for (ContainerRecord c : topology.containers()) {
            known.add(c.id());
        }
        removeOrphans(known);
        for (ContainerRecord c : topology.containers()) {
            try {
                containers.restore(c);
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "cannot restore container " + c.id() + ": " + e.getMessage(), e);
            }
        }
        steps.lap("containers");
        steps.log(LOG);
        LOG.info("reconciled " + known.size() + " container(s), " + topology.links().size() + " link(s), "
                + topology.forwards().size() + " forward(s)");
    }

    /**
     * The agent's own network as stored: libvirt network and bridge, tables with every element
     * (one transaction), host routes (strays removed). Containers are not touched.
     */
    private void applyNetwork() {
        hypervisor.ensureNetwork();
        firewall.install();
        // One transaction: elements a killed agent added but never saved go, the stored ones stay.
        firewall.replaceElements(network::addStoredElements);
        Set<InetAddress> addresses = new HashSet<>();
        for (ContainerRecord c : topology.containers()) {
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
    }

    /**
     * Puts the agent's network back while it runs (its bridge, libvirt network, tables or host
     * routes were removed or changed underneath): the same as at start, then the running
     * containers' ports are plugged into the (new) bridge. Containers keep running throughout.
     */
    public void repairNetwork() {
        long t0 = System.nanoTime();
        applyNetwork();
        List<String> ports = topology.containers().stream().map(ContainerRecord::port).toList();
        for (String port : bridgePorts.unplugged(ports)) {
            bridgePorts.plug(port);
        }
        LOG.info(String.format("repaired the agent's network (%d container(s), %d link(s), %d forward(s)) in %.0f ms",
                topology.containers().size(), topology.links().size(), topology.forwards().size(), (System.nanoTime() - t0) / 1e6));
    }

    /**
     * What of the agent's network the host no longer has as stored, or null when nothing is
     * missing. {@code deep}: also the tables and host routes (each a look at the kernel that
     * costs more than the sysfs reads).
     */
    public String networkDamage(boolean deep) {
        if (!hypervisor.networkIntact()) {
            return "its bridge or libvirt network is gone";
        }
        List<String> ports = topology.containers().stream().map(ContainerRecord::port).toList();
        List<String> unplugged = bridgePorts.unplugged(ports);
        if (!unplugged.isEmpty()) {
            return "ports " + unplugged + " are not on the bridge";
        }
        if (!deep) {
            return null;
        }
        if (!firewall.isInstalled()) {
            return "its nftables tables are gone";
        }
        Set<InetAddress> present = routes.existing();
        List<String> missing = new java.util.ArrayList<>();
        for (ContainerRecord c : topology.containers()) {
            for (InetAddress a : List.of(c.ipv4(), c.ipv6())) {
                if (!present.contains(a)) {
                    missing.add(a.getHostAddress());
                }
            }
        }
        return missing.isEmpty() ? null : "host routes to " + missing + " are gone";
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
