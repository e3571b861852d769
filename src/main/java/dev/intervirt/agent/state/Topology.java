package dev.intervirt.agent.state;

import dev.intervirt.agent.protocol.AgentException;
import dev.intervirt.agent.state.StoredTopology.StoredContainer;
import dev.intervirt.agent.state.StoredTopology.StoredForward;
import dev.intervirt.agent.value.ImageName;
import dev.intervirt.agent.value.IpAddresses;
import dev.intervirt.agent.value.MacAddress;
import dev.intervirt.agent.value.Protocol;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * The desired state: containers, links and port forwards. Every change is checked here
 * (uniqueness of ids, MACs and addresses) and saved through the {@link StateStore} before the
 * method returns, all under one lock, so what is stored is always a consistent whole.
 */
public class Topology implements AutoCloseable {

    /** A forward is identified by its guest side. */
    public record ForwardKey(Protocol protocol, int externalPort) {
    }

    private final StateStore store;
    private final String portPrefix;
    private final Map<String, ContainerRecord> containers = new LinkedHashMap<>();
    /** Kept in file order (a, then b), so a save needs no sort: it runs on every change. */
    private final Set<Link> links = new TreeSet<>(Comparator.comparing(Link::a).thenComparing(Link::b));
    private final Map<ForwardKey, PortForward> forwards = new LinkedHashMap<>();
    private int nextSlot = 1;
    /** Addresses being given to a container by a change in progress (not saved yet). */
    private final Map<InetAddress, String> reserved = new java.util.HashMap<>();

    /** @param portPrefix prefix of host-side interface names (with the number, at most 15 characters) */
    public Topology(StateStore store, String portPrefix) {
        this.store = store;
        this.portPrefix = portPrefix;
        restore(store.load());
    }

    // ---- containers -------------------------------------------------------------------------

    public synchronized Optional<ContainerRecord> find(String id) {
        return Optional.ofNullable(containers.get(id));
    }

    /** The container, or the spec's "doesn't exist" error (code 6). */
    public synchronized ContainerRecord get(String id) {
        ContainerRecord r = containers.get(id);
        if (r == null) {
            throw AgentException.noSuchContainer(id);
        }
        return r;
    }

    public synchronized List<ContainerRecord> containers() {
        return List.copyOf(containers.values());
    }

    /** Checks that the new container clashes with nothing, gives it a slot and saves it. */
    public synchronized ContainerRecord addContainer(String id, MacAddress mac, Inet4Address ipv4, Inet6Address ipv6,
                                                     boolean internet, ImageName image) {
        if (containers.containsKey(id)) {
            throw AgentException.alreadyDone("Container " + id + " already exists.");
        }
        for (ContainerRecord other : containers.values()) {
            if (other.mac().equals(mac)) {
                throw AgentException.invalid("MAC " + mac + " is already used by container " + other.id() + ".");
            }
        }
        requireFree(ipv4, null);
        requireFree(ipv6, null);
        ContainerRecord r = new ContainerRecord(id, portPrefix + nextSlot, mac, ipv4, ipv6, internet, image, false);
        containers.put(id, r);
        nextSlot++;
        persistOrUndo(new JournalEntry.ContainerPut(stored(r), nextSlot), () -> {
            containers.remove(id);
            nextSlot--;
        });
        return r;
    }

    /**
     * Claims {@code address} for {@code id} until {@link #release}: checked free and reserved in
     * one step, so two concurrent changes (different containers, different lanes) can never
     * both take the same address.
     */
    public synchronized void reserve(InetAddress address, String id) {
        requireFree(address, id);
        reserved.put(address, id);
    }

    public synchronized void release(InetAddress address, String id) {
        reserved.remove(address, id);
    }

    /** Fails with code 8 naming the owner if another container carries (or is being given) the address. */
    public synchronized void requireFree(InetAddress address, String exceptId) {
        String claimant = reserved.get(address);
        if (claimant != null && !claimant.equals(exceptId)) {
            throw AgentException.invalid("Address " + IpAddresses.format(address) + " is being given to container "
                    + claimant + ".");
        }
        for (ContainerRecord other : containers.values()) {
            if (other.id().equals(exceptId)) {
                continue;
            }
            if (address.equals(other.ipv4()) || address.equals(other.ipv6())) {
                throw AgentException.invalid("Address " + IpAddresses.format(address) + " is already used by container "
                        + other.id() + ".");
            }
        }
    }

    /** Replaces the record of an existing container and saves. */
    public synchronized void update(ContainerRecord record) {
        ContainerRecord old = containers.get(record.id());
        if (old == null) {
            throw AgentException.noSuchContainer(record.id());
        }
        containers.put(record.id(), record);
        persistOrUndo(new JournalEntry.ContainerPut(stored(record), nextSlot), () -> containers.put(old.id(), old));
    }

    /** Forgets the container with its links and forwards, and saves. */
    public synchronized void removeContainer(String id) {
        ContainerRecord old = containers.remove(id);
        if (old == null) {
            return;
        }
        List<Link> oldLinks = links.stream().filter(l -> l.touches(id)).toList();
        List<PortForward> oldForwards = forwards.values().stream().filter(f -> f.containerId().equals(id)).toList();
        oldLinks.forEach(links::remove);
        oldForwards.forEach(f -> forwards.remove(new ForwardKey(f.protocol(), f.externalPort())));
        persistOrUndo(new JournalEntry.ContainersRemoved(List.of(id)), () -> {
            containers.put(id, old);
            links.addAll(oldLinks);
            oldForwards.forEach(f -> forwards.put(new ForwardKey(f.protocol(), f.externalPort()), f));
        });
    }

    /** Forgets the given containers with their links and forwards, and saves once. */
    public synchronized void removeContainers(Collection<String> ids) {
        Map<String, ContainerRecord> oldContainers = new LinkedHashMap<>(containers);
        List<Link> oldLinks = List.copyOf(links);
        Map<ForwardKey, PortForward> oldForwards = new LinkedHashMap<>(forwards);
        Set<String> gone = Set.copyOf(ids);
        containers.keySet().removeAll(gone);
        links.removeIf(l -> gone.contains(l.a()) || gone.contains(l.b()));
        forwards.values().removeIf(f -> gone.contains(f.containerId()));
        persistOrUndo(new JournalEntry.ContainersRemoved(List.copyOf(gone)), () -> {
            containers.clear();
            containers.putAll(oldContainers);
            links.clear();
            links.addAll(oldLinks);
            forwards.clear();
            forwards.putAll(oldForwards);
        });
    }

    // ---- links ------------------------------------------------------------------------------

    public synchronized boolean isLinked(Link link) {
        return links.contains(link);
    }

    public synchronized void addLink(Link link) {
        if (links.add(link)) {
            persistOrUndo(new JournalEntry.LinkChange(link, true), () -> links.remove(link));
        }
    }

    public synchronized void removeLink(Link link) {
        if (links.remove(link)) {
            persistOrUndo(new JournalEntry.LinkChange(link, false), () -> links.add(link));
        }
    }

    public synchronized List<Link> links() {
        return List.copyOf(links);
    }

    /** The containers linked to {@code id}. */
    public synchronized List<ContainerRecord> peersOf(String id) {
        List<ContainerRecord> peers = new ArrayList<>();
        for (Link l : links) {
            if (l.touches(id)) {
                ContainerRecord p = containers.get(l.other(id));
                if (p != null) {
                    peers.add(p);
                }
            }
        }
        peers.sort(Comparator.comparing(ContainerRecord::id));
        return peers;
    }

    // ---- port forwards ----------------------------------------------------------------------

    public synchronized Optional<PortForward> forward(Protocol protocol, int externalPort) {
        return Optional.ofNullable(forwards.get(new ForwardKey(protocol, externalPort)));
    }

    public synchronized void addForward(PortForward forward) {
        ForwardKey key = new ForwardKey(forward.protocol(), forward.externalPort());
        PortForward old = forwards.put(key, forward);
        persistOrUndo(new JournalEntry.ForwardPut(stored(forward)), () -> {
            if (old == null) {
                forwards.remove(key);
            } else {
                forwards.put(key, old);
            }
        });
    }

    public synchronized void removeForward(Protocol protocol, int externalPort) {
        ForwardKey key = new ForwardKey(protocol, externalPort);
        PortForward old = forwards.remove(key);
        if (old != null) {
            persistOrUndo(new JournalEntry.ForwardRemoved(protocol.wireName(), externalPort), () -> forwards.put(key, old));
        }
    }

    public synchronized List<PortForward> forwards() {
        return List.copyOf(forwards.values());
    }

    public synchronized List<PortForward> forwardsOf(String id) {
        return forwards.values().stream().filter(f -> f.containerId().equals(id)).toList();
    }

    // ---- persistence ------------------------------------------------------------------------

    /** Brings the last changes to the disk (the agent's stop). */
    @Override
    public void close() {
        store.close();
    }

    /**
     * The change goes to the journal (constant cost, whatever the topology's size), or the whole
     * topology to a snapshot when the journal is full; if neither is durable, the in-memory
     * change is undone.
     */
    private void persistOrUndo(JournalEntry change, Runnable undo) {
        try {
            if (!store.append(change)) {
                store.save(toStored());
            }
        } catch (RuntimeException e) {
            undo.run();
            throw e;
        }
    }

    synchronized StoredTopology toStored() {
        List<StoredContainer> cs = containers.values().stream().map(Topology::stored).toList();
        List<Link> ls = List.copyOf(links);
        List<StoredForward> fs = forwards.values().stream().map(Topology::stored).toList();
        return new StoredTopology(StoredTopology.CURRENT_VERSION, nextSlot, cs, ls, fs);
    }

    private static StoredContainer stored(ContainerRecord c) {
        return new StoredContainer(c.id(), c.port(), c.mac().canonical(), IpAddresses.format(c.ipv4()),
                IpAddresses.format(c.ipv6()), c.internet(), c.image().toString(), c.running());
    }

    private static StoredForward stored(PortForward f) {
        return new StoredForward(f.protocol().wireName(), f.externalPort(), f.containerId(), f.internalPort());
    }

    private void restore(StoredTopology stored) {
        nextSlot = Math.max(1, stored.nextSlot());
        for (StoredContainer c : stored.containers()) {
            try {
                ContainerRecord r = new ContainerRecord(c.id(), c.port(), new MacAddress(c.mac()),
                        IpAddresses.parseIpv4(c.ipv4()), IpAddresses.parseIpv6(c.ipv6()), c.internet(),
                        ImageName.parse(c.image()), c.running());
                containers.put(r.id(), r);
                nextSlot = Math.max(nextSlot, slotOf(r.port()) + 1);
            } catch (IpAddresses.InvalidAddressException | RuntimeException e) {
                throw new IllegalStateException("stored container " + c.id() + " is invalid: " + e.getMessage(), e);
            }
        }
        for (Link l : stored.links()) {
            if (containers.containsKey(l.a()) && containers.containsKey(l.b())) {
                links.add(new Link(l.a(), l.b()));
            }
        }
        for (StoredForward f : stored.forwards()) {
            Protocol p = Protocol.parse(f.protocol());
            if (p != null && containers.containsKey(f.containerId())) {
                forwards.put(new ForwardKey(p, f.externalPort()), new PortForward(p, f.externalPort(), f.containerId(),
                        f.internalPort()));
            }
        }
    }

    private int slotOf(String port) {
        if (port.startsWith(portPrefix)) {
            try {
                return Integer.parseInt(port.substring(portPrefix.length()));
            } catch (NumberFormatException e) {
                return 0;
            }
        }
        return 0;
    }
}
