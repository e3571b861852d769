package dev.intervirt.agent.network;

import dev.intervirt.agent.concurrent.Alongside;
import dev.intervirt.agent.container.InitPids;
import dev.intervirt.agent.dispatch.StepTimer;
import dev.intervirt.agent.host.ContainerNetns;
import dev.intervirt.agent.host.ContainerNetns.Peer;
import dev.intervirt.agent.host.Firewall;
import dev.intervirt.agent.host.FirewallElements;
import dev.intervirt.agent.host.HostRoutes;
import dev.intervirt.agent.host.Undo;
import dev.intervirt.agent.protocol.AgentException;
import dev.intervirt.agent.protocol.ErrorCode;
import dev.intervirt.agent.state.ContainerRecord;
import dev.intervirt.agent.state.Link;
import dev.intervirt.agent.state.PortForward;
import dev.intervirt.agent.state.Topology;
import dev.intervirt.agent.ssh.SshGateways;
import dev.intervirt.agent.value.IpAddresses;
import dev.intervirt.agent.value.Protocol;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Logger;

/**
 * Links, addresses, internet access and port forwards. Each change touches only the elements
 * it concerns (set elements, single routes): O(1) in the size of the topology, or O(peers of
 * one container) for an address change. The host is changed first, then the topology is
 * saved; a failure on the way undoes what was done.
 */
@ApplicationScoped
public class NetworkService {

    private static final Logger LOG = Logger.getLogger(NetworkService.class.getName());

    private Topology topology;
    private Firewall firewall;
    private ContainerNetns netns;
    private HostRoutes routes;
    private InitPids pids;
    private SshGateways ssh;
    private int agentPort;
    /**
     * Held while a container's namespace is configured from the topology and while an address
     * change rewrites the routes in its peers' namespaces (which run in other lanes): a peer
     * that starts meanwhile reads either the old address and gets the change, or the new one.
     */
    private final Object peerRoutes = new Object();
    /**
     * Held while forwards are added, removed, or moved to a container's new address: a
     * RemovePortForwarding (lane of the port) and an address change (lane of the container)
     * must not interleave, or the move re-adds a forward just removed.
     */
    private final Object forwardsLock = new Object();
    /**
     * Saves a change and makes its host changes: in order, where the save is a journal line
     * whose flush runs behind the reply; with {@code --flush-before-reply}, the flush (~0.1-0.3
     * ms on the guest's disk) overlaps the host changes on a thread of its own.
     */
    private Alongside saveAhead;

    protected NetworkService() {
        // for CDI proxies
    }

    @jakarta.annotation.PreDestroy
    void shutdown() {
        if (saveAhead != null) {
            saveAhead.close();
        }
    }

    @Inject
    public NetworkService(Topology topology, Firewall firewall, ContainerNetns netns, HostRoutes routes, InitPids pids,
                          SshGateways ssh, dev.intervirt.agent.app.AgentConfig config) {
        this.ssh = ssh;
        this.topology = topology;
        this.firewall = firewall;
        this.netns = netns;
        this.routes = routes;
        this.pids = pids;
        this.agentPort = config.port();
        this.saveAhead = config.flushBeforeReply() ? new Alongside("topology-save") : Alongside.inOrder();
    }

    // ---- lifecycle hooks used by the container service --------------------------------------

    /** Host-side state of a new container: its port's addresses, internet access, host routes. */
    public void attach(ContainerRecord c) {
        firewall.addPort(c.port(), c.mac(), c.ipv4(), c.ipv6());
        if (c.internet()) {
            firewall.setInternet(c.ipv4(), c.ipv6(), true);
        } else {
            firewall.clearInternet(c.ipv4(), c.ipv6());
        }
        attachRoutes(c);
    }

    /**
     * Every stored container's, link's and forward's firewall elements, added to {@code into}
     * (the reconciler's batch of {@link Firewall#replaceElements}). Opens the SSH gateways of forwards.
     */
    public void addStoredElements(FirewallElements into) {
        for (ContainerRecord c : topology.containers()) {
            addContainerElements(c, into);
        }
        for (Link l : topology.links()) {
            into.link(topology.get(l.a()).port(), topology.get(l.b()).port());
        }
        for (PortForward f : topology.forwards()) {
            addForwardElement(f, topology.get(f.containerId()), into);
        }
    }

    /** A stored container's elements for the reconciler's batch: the port's addresses and internet access. */
    private static void addContainerElements(ContainerRecord c, FirewallElements into) {
        into.addPort(c.port(), c.mac(), c.ipv4(), c.ipv6());
        into.setInternet(c.ipv4(), c.ipv6(), c.internet());
    }

    /** The host routes of {@link #attach}, in one step. */
    public void attachRoutes(ContainerRecord c) {
        routes.addAll(List.of(c.ipv4(), c.ipv6()));
    }

    /** Undoes {@link #attach} plus the container's links and forwards. Idempotent. */
    public void detach(ContainerRecord c) {
        for (ContainerRecord peer : topology.peersOf(c.id())) {
            firewall.unlink(c.port(), peer.port());
            synchronized (peerRoutes) {
                try {
                    pids.ofRecent(peer).ifPresent(pid -> netns.removePeer(pid, peerOf(c)));
                } catch (RuntimeException e) {
                    // The peer stopped meanwhile (its routes went with it) or is starting (it reads the topology).
                    LOG.info("route to " + c.id() + " in " + peer.id() + " not removed: " + e.getMessage());
                }
            }
        }
        for (PortForward f : topology.forwardsOf(c.id())) {
            firewall.removeForward(f.protocol(), f.externalPort());
            closeGateway(f);
        }
        if (c.internet()) {
            firewall.setInternet(c.ipv4(), c.ipv6(), false);
        } else {
            firewall.clearInternet(c.ipv4(), c.ipv6());
        }
        firewall.removePort(c.port(), c.mac(), c.ipv4(), c.ipv6());
        routes.removeAll(List.of(c.ipv4(), c.ipv6()));
    }

    /**
     * For the wipe, once every container is gone: all firewall elements in one flush, and the
     * host routes of the given containers. Their namespaces are gone with them.
     */
    public void releaseAll(List<ContainerRecord> removed) {
        firewall.flushElements();
        ssh.closeAll();
        routes.removeAll(removed.stream().<java.net.InetAddress>mapMulti((c, out) -> {
            out.accept(c.ipv4());
            out.accept(c.ipv6());
        }).toList());
    }

    /** Brings a freshly started container's namespace to the desired state. */
    public void configureStarted(ContainerRecord c, int pid) {
        synchronized (peerRoutes) {
            ContainerRecord current = topology.find(c.id()).orElse(c);
            List<Peer> peers = topology.peersOf(c.id()).stream().map(NetworkService::peerOf).toList();
            netns.configure(pid, current.addresses(), peers, current.internet());
        }
    }

    // ---- requests ---------------------------------------------------------------------------

    public void connect(String id1, String id2) {
        Link link = link(id1, id2);
        ContainerRecord a = topology.get(link.a());
        ContainerRecord b = topology.get(link.b());
        if (topology.isLinked(link)) {
            throw AgentException.alreadyDone("Containers " + id1 + " and " + id2 + " are already connected.");
        }
        StepTimer steps = new StepTimer("connect " + link.a() + " " + link.b());
        try (Undo undo = new Undo()) {
            saveAhead.run(() -> topology.addLink(link), () -> topology.removeLink(link), () -> wire(a, b, undo, steps));
            steps.lap("saved");
            undo.commit();
        }
        steps.log(LOG);
    }

    /** The link's wire (firewall) and both ends' routes to each other, each with its undo step. */
    private void wire(ContainerRecord a, ContainerRecord b, Undo undo, StepTimer steps) {
        firewall.link(a.port(), b.port());
        undo.push(() -> firewall.unlink(a.port(), b.port()));
        steps.lap("nft");
        OptionalInt pa = pids.ofRecent(a);
        OptionalInt pb = pids.ofRecent(b);
        AtomicBoolean aDone = new AtomicBoolean();
        AtomicBoolean bDone = new AtomicBoolean();
        try {
            bothEnds(() -> aDone.set(addPeerRoute(pa, b)), () -> bDone.set(addPeerRoute(pb, a)));
        } finally {
            if (aDone.get()) {
                undo.push(() -> netns.removePeer(pa.getAsInt(), peerOf(b)));
            }
            if (bDone.get()) {
                undo.push(() -> netns.removePeer(pb.getAsInt(), peerOf(a)));
            }
        }
        steps.lap("routes");
    }

    public void disconnect(String id1, String id2) {
        Link link = link(id1, id2);
        ContainerRecord a = topology.get(link.a());
        ContainerRecord b = topology.get(link.b());
        if (!topology.isLinked(link)) {
            throw AgentException.alreadyDone("Containers " + id1 + " and " + id2 + " are not connected.");
        }
        try (Undo undo = new Undo()) {
            OptionalInt pa = pids.ofRecent(a);
            OptionalInt pb = pids.ofRecent(b);
            saveAhead.run(() -> topology.removeLink(link), () -> topology.addLink(link), () -> {
                // Cut the wire first: from this moment no packet passes, whatever follows.
                firewall.unlink(a.port(), b.port());
                undo.push(() -> firewall.link(a.port(), b.port()));
                bothEnds(() -> pa.ifPresent(pid -> netns.removePeer(pid, peerOf(b))),
                        () -> pb.ifPresent(pid -> netns.removePeer(pid, peerOf(a))));
                // A link that cannot be forgotten durably stays whole: wire and routes come back.
                undo.push(() -> bothEnds(() -> addPeerRoute(pa, b), () -> addPeerRoute(pb, a)));
            });
            undo.commit();
        }
    }

    public void setIpv4(String id, Inet4Address address) {
        ContainerRecord old = topology.get(id);
        setAddress(old, old.ipv4(), address, old.withIpv4(address));
    }

    public void setIpv6(String id, Inet6Address address) {
        ContainerRecord old = topology.get(id);
        setAddress(old, old.ipv6(), address, old.withIpv6(address));
    }

    private void setAddress(ContainerRecord old, java.net.InetAddress current, java.net.InetAddress address,
                            ContainerRecord neu) {
        if (current.equals(address)) {
            throw AgentException.alreadyDone("Container " + old.id() + " already has the address "
                    + IpAddresses.format(address) + ".");
        }
        topology.reserve(address, old.id());
        try {
            changeAddress(old, neu);
        } finally {
            topology.release(address, old.id());
        }
    }

    public void setInternet(String id, boolean enabled) {
        ContainerRecord c = topology.get(id);
        if (c.internet() == enabled) {
            throw AgentException.alreadyDone("Internet access of container " + id + " is already "
                    + (enabled ? "enabled" : "disabled") + ".");
        }
        try (Undo undo = new Undo()) {
            saveAhead.run(() -> topology.update(c.withInternet(enabled)), () -> topology.update(c), () -> {
                firewall.setInternet(c.ipv4(), c.ipv6(), enabled);
                undo.push(() -> firewall.setInternet(c.ipv4(), c.ipv6(), !enabled));
                OptionalInt pid = pids.ofRecent(c);
                if (pid.isPresent()) {
                    netns.setInternet(pid.getAsInt(), enabled);
                    undo.push(() -> netns.setInternet(pid.getAsInt(), !enabled));
                }
            });
            undo.commit();
        }
    }

    public void addForward(String id, int internalPort, int externalPort, Protocol protocol) {
        ContainerRecord c = topology.get(id);
        if (externalPort == agentPort) {
            throw AgentException.invalid("Port " + externalPort + "/" + protocol.wireName()
                    + " is the agent's own port and cannot be forwarded.");
        }
        var existing = topology.forward(protocol, externalPort);
        if (existing.isPresent()) {
            PortForward f = existing.get();
            if (f.containerId().equals(id) && f.internalPort() == internalPort) {
                throw AgentException.alreadyDone("Port " + f.describe() + " is already forwarded to " + id + ":" + internalPort + ".");
            }
            throw AgentException.invalid("Port " + f.describe() + " is already forwarded to container " + f.containerId()
                    + " (port " + f.internalPort() + "); remove that forwarding first.");
        }
        synchronized (forwardsLock) {
            try (Undo undo = new Undo()) {
                PortForward f = new PortForward(protocol, externalPort, id, internalPort);
                undo.push(() -> closeGateway(f));
                addForwardElement(f, c, firewall);
                undo.push(() -> firewall.removeForward(protocol, externalPort));
                topology.addForward(f);
                undo.commit();
            }
        }
    }

    public void removeForward(int externalPort, Protocol protocol) {
        synchronized (forwardsLock) {
            topology.forward(protocol, externalPort).orElseThrow(() ->
                    AgentException.notFound("No port forwarding on " + externalPort + "/" + protocol.wireName() + "."));
            PortForward f = topology.forward(protocol, externalPort).orElseThrow();
            firewall.removeForward(protocol, externalPort);
            closeGateway(f);
            topology.removeForward(protocol, externalPort);
        }
    }

    /**
     * The DNAT element of a forward: straight to the container, or, for its SSH port, to the
     * forward's SSH gateway (which reaches the computer's own sshd or the agent's SSH server).
     */
    private void addForwardElement(PortForward f, ContainerRecord c, FirewallElements into) {
        if (SshGateways.handles(f.protocol(), f.internalPort())) {
            int gatewayPort = ssh.open(f.externalPort(), c.id());
            into.addForward(f.protocol(), f.externalPort(), SshGateways.address(), gatewayPort);
        } else {
            into.addForward(f.protocol(), f.externalPort(), c.ipv4(), f.internalPort());
        }
    }

    private void closeGateway(PortForward f) {
        if (SshGateways.handles(f.protocol(), f.internalPort())) {
            ssh.close(f.externalPort());
        }
    }

    // ---- helpers ----------------------------------------------------------------------------

    private Link link(String id1, String id2) {
        if (id1.equals(id2)) {
            throw AgentException.invalid("A container cannot be connected to itself (" + id1 + ").");
        }
        boolean has1 = topology.find(id1).isPresent();
        boolean has2 = topology.find(id2).isPresent();
        if (!has1 && !has2) {
            throw AgentException.notFound("Container " + id1 + " and " + id2 + " don't exist.");
        }
        if (!has1 || !has2) {
            throw AgentException.noSuchContainer(has1 ? id2 : id1);
        }
        return new Link(id1, id2);
    }

    /** Adds the route to {@code peer} in a running container's namespace; false if it is not running. */
    private boolean addPeerRoute(OptionalInt selfPid, ContainerRecord peer) {
        if (selfPid.isEmpty()) {
            return false;
        }
        netns.addPeer(selfPid.getAsInt(), peerOf(peer));
        return true;
    }

    /**
     * Runs the two ends' namespace changes one after the other in the calling thread: each is
     * one netlink exchange (~0.05 ms), cheaper than handing one to another thread. Both always
     * run to their end; the first failure is then thrown.
     */
    private static void bothEnds(Runnable first, Runnable second) {
        RuntimeException failure = null;
        try {
            first.run();
        } catch (RuntimeException e) {
            failure = e;
        }
        try {
            second.run();
        } catch (RuntimeException e) {
            if (failure == null) {
                failure = e;
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    /**
     * Moves every host element that names an address of the container from old to new. The
     * save and the host changes go as a Connect's (saveAhead), all under the peers' lock: a peer
     * starting meanwhile reads the topology either before (and gets the change here) or after
     * (the new address).
     */
    private void changeAddress(ContainerRecord old, ContainerRecord neu) {
        List<ContainerRecord> missed = new java.util.ArrayList<>();
        try (Undo undo = new Undo()) {
            synchronized (peerRoutes) {
                saveAhead.run(() -> topology.update(neu), () -> topology.update(old), () -> {
                    moveOwnAddress(old, neu, undo);
                    movePeerRoutes(old, neu, undo, missed);
                });
            }
            undo.commit();
        }
        for (ContainerRecord peer : missed) {
            // A peer still running gets its whole namespace from the topology, which has the new address now.
            try {
                OptionalInt p = pids.of(peer);
                if (p.isPresent()) {
                    configureStarted(peer, p.getAsInt());
                }
            } catch (RuntimeException e) {
                LOG.info("route to " + neu.id() + " in " + peer.id() + " left to its start or stop: " + e.getMessage());
            }
        }
    }

    /** The container's own side: its firewall registration, host routes, forwards and namespace. */
    private void moveOwnAddress(ContainerRecord old, ContainerRecord neu, Undo undo) {
        firewall.movePort(old.port(), old.mac(), old.ipv4(), old.ipv6(), neu.ipv4(), neu.ipv6());
        undo.push(() -> firewall.movePort(old.port(), old.mac(), neu.ipv4(), neu.ipv6(), old.ipv4(), old.ipv6()));
        if (old.internet()) {
            firewall.setInternet(old.ipv4(), old.ipv6(), false);
            firewall.setInternet(neu.ipv4(), neu.ipv6(), true);
            undo.push(() -> {
                firewall.setInternet(neu.ipv4(), neu.ipv6(), false);
                firewall.setInternet(old.ipv4(), old.ipv6(), true);
            });
        }
        swapRoute(old.ipv4(), neu.ipv4(), undo);
        swapRoute(old.ipv6(), neu.ipv6(), undo);
        synchronized (forwardsLock) {
            for (PortForward f : topology.forwardsOf(old.id())) {
                if (SshGateways.handles(f.protocol(), f.internalPort())) {
                    continue; // the gateway looks the address up on every connection
                }
                firewall.replaceForward(f.protocol(), f.externalPort(), neu.ipv4(), f.internalPort());
                undo.push(() -> {
                    synchronized (forwardsLock) {
                        if (topology.forward(f.protocol(), f.externalPort()).isPresent()) {
                            firewall.replaceForward(f.protocol(), f.externalPort(), old.ipv4(), f.internalPort());
                        }
                    }
                });
            }
        }
        OptionalInt pid = pids.ofRecent(old);
        if (pid.isPresent()) {
            int p = pid.getAsInt();
            if (!old.ipv4().equals(neu.ipv4())) {
                netns.replaceIpv4(p, old.ipv4(), neu.ipv4());
                undo.push(() -> netns.replaceIpv4(p, neu.ipv4(), old.ipv4()));
            } else {
                netns.replaceIpv6(p, old.ipv6(), neu.ipv6());
                undo.push(() -> netns.replaceIpv6(p, neu.ipv6(), old.ipv6()));
            }
        }
    }

    /** Each running peer's route to the container; a peer in the middle of a start or stop is missed. */
    private void movePeerRoutes(ContainerRecord old, ContainerRecord neu, Undo undo, List<ContainerRecord> missed) {
        for (ContainerRecord peer : topology.peersOf(old.id())) {
            try {
                OptionalInt peerPid = pids.ofRecent(peer);
                if (peerPid.isPresent()) {
                    int p = peerPid.getAsInt();
                    netns.replacePeer(p, peerOf(old), peerOf(neu));
                    undo.push(() -> netns.replacePeer(p, peerOf(neu), peerOf(old)));
                }
            } catch (RuntimeException e) {
                // A peer in the middle of a start (no eth0 yet) or a stop: not this request's failure.
                missed.add(peer);
            }
        }
    }

    private void swapRoute(java.net.InetAddress oldAddress, java.net.InetAddress newAddress, Undo undo) {
        if (oldAddress.equals(newAddress)) {
            return;
        }
        routes.move(oldAddress, newAddress);
        undo.push(() -> routes.move(newAddress, oldAddress));
    }

    static Peer peerOf(ContainerRecord c) {
        return new Peer(c.ipv4(), c.ipv6());
    }
}
