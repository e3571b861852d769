package dev.intervirt.agent.host;

import dev.intervirt.agent.host.netlink.Address;
import dev.intervirt.agent.host.netlink.Message;
import dev.intervirt.agent.host.netlink.NamespaceSockets;
import dev.intervirt.agent.host.netlink.NetlinkException;
import dev.intervirt.agent.host.netlink.NetlinkSocket;
import dev.intervirt.agent.host.netlink.Requests;
import dev.intervirt.agent.host.netlink.Route;
import dev.intervirt.agent.value.HostAddresses;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;

/**
 * {@link ContainerNetns} over rtnetlink, in the agent's own process: one netlink socket per
 * running container, opened once inside its network namespace ({@link NamespaceSockets}), and
 * each operation one {@code send} of its requests plus their acknowledgements; no process and
 * no thread per step. The result is exactly that of {@link NsenterNetns} (the fallback, whose
 * scripts these requests mirror line by line): the same routing model, the same idempotence
 * (a deletion first replaces what it deletes, so an absent route or address is no error) and
 * failures as host-command failures (code 5) with the kernel's reason.
 *
 * <p>The IPv6 sysctls of eth0 are written when the socket is opened or the namespace
 * configured, by the thread that entered the namespace ({@code /proc/sys/net} shows the
 * opener's namespace).
 */
public final class NetlinkNetns implements ContainerNetns {

    private static final String IFACE = NsenterNetns.IFACE;
    private static final InetAddress GATEWAY4 = literal(NsenterNetns.GATEWAY4);
    private static final InetAddress GATEWAY6 = literal(NsenterNetns.GATEWAY6);
    private static final Set<Integer> FLUSHED_IPV6_PROTOCOLS =
            Set.of(Route.PROTO_BOOT, Route.PROTO_STATIC, Route.PROTO_RA, Route.PROTO_DHCP);

    private final NamespaceSockets sockets;

    public NetlinkNetns() {
        this(new NamespaceSockets());
    }

    public NetlinkNetns(NamespaceSockets sockets) {
        this.sockets = sockets;
    }

    @Override
    public void configure(int initPid, HostAddresses addresses, Collection<Peer> peers, boolean internet) {
        Objects.requireNonNull(addresses, "addresses");
        Objects.requireNonNull(peers, "peers");
        boolean[] written = {false};
        NamespaceSockets.Handle h = handle(initPid, () -> {
            writeSysctls();
            written[0] = true;
        });
        if (!written[0]) {
            // A socket kept from before (an agent that re-configures a running container).
            dev.intervirt.agent.host.netlink.Namespaces.inside(Path.of("/proc", Integer.toString(initPid), "ns", "net"),
                    () -> {
                        writeSysctls();
                        return null;
                    });
        }
        run(h, idx -> {
            NetlinkSocket s = h.socket();
            s.execute(Requests.linkUp(idx, addresses.mac() == null ? null : addresses.mac().bytes()));
            configureAddresses(s, idx, addresses);
            configureRoutes(s, idx, peers, internet);
            return null;
        });
    }

    /** Exactly the registered /32 and /128 (nodad); link-local IPv6 addresses stay. */
    private static void configureAddresses(NetlinkSocket s, int idx, HostAddresses addresses) {
        List<Message> changes = new ArrayList<>();
        for (Address a : s.addresses(0)) {
            if (a.index() != idx) {
                continue;
            }
            boolean wanted = a.isIpv6()
                    ? a.address().equals(addresses.ipv6()) && a.prefix() == 128
                    : a.address().equals(addresses.ipv4()) && a.prefix() == 32;
            boolean flushed = !a.isIpv6() || a.scope() == Address.SCOPE_GLOBAL;
            if (flushed && !wanted) {
                changes.add(Requests.deleteAddress(a.address(), a.prefix(), idx)
                        .tolerating(NetlinkException.EADDRNOTAVAIL));
            }
        }
        if (addresses.ipv4() != null) {
            changes.add(Requests.replaceAddress(addresses.ipv4(), 32, idx, false));
        }
        if (addresses.ipv6() != null) {
            changes.add(Requests.replaceAddress(addresses.ipv6(), 128, idx, true));
        }
        s.execute(changes);
    }

    /**
     * IPv4: every main-table route of eth0 that is not ours goes (as {@code ip route flush dev
     * eth0}); IPv6: those of the protocols boot, static, ra and dhcp (kernel routes such as
     * fe80::/64 stay). Then ours are replaced in.
     */
    private static void configureRoutes(NetlinkSocket s, int idx, Collection<Peer> peers, boolean internet) {
        List<Route> wanted = new ArrayList<>();
        wanted.add(Route.host(GATEWAY4, idx));
        wanted.add(Route.host(GATEWAY6, idx));
        for (Peer p : peers) {
            if (p.ipv4() != null) {
                wanted.add(Route.host(p.ipv4(), idx));
            }
            if (p.ipv6() != null) {
                wanted.add(Route.host(p.ipv6(), idx));
            }
        }
        if (internet) {
            wanted.add(Route.defaultVia(GATEWAY4, idx, true));
            wanted.add(Route.defaultVia(GATEWAY6, idx, false));
        }
        List<Message> changes = new ArrayList<>();
        for (Route r : s.routes(0)) {
            if (r.oif() != idx || r.table() != 254) {
                continue;
            }
            boolean flushed = r.family() == Requests.IPV4 || FLUSHED_IPV6_PROTOCOLS.contains(r.protocol());
            if (flushed && wanted.stream().noneMatch(r::sameKey)) {
                changes.add(Requests.deleteRoute(r).tolerating(NetlinkException.ESRCH));
            }
        }
        wanted.forEach(r -> changes.add(Requests.replaceRoute(r)));
        s.execute(changes);
    }

    @Override
    public void addPeer(int initPid, Peer peer) {
        Objects.requireNonNull(peer, "peer");
        execute(initPid, idx -> addPeerRequests(peer, idx));
    }

    @Override
    public void removePeer(int initPid, Peer peer) {
        Objects.requireNonNull(peer, "peer");
        execute(initPid, idx -> removePeerRequests(peer, idx));
    }

    @Override
    public void replacePeer(int initPid, Peer oldPeer, Peer newPeer) {
        Peer gone = oldPeer.without(newPeer);
        Peer come = newPeer.without(oldPeer);
        execute(initPid, idx -> {
            List<Message> m = removePeerRequests(gone, idx);
            m.addAll(addPeerRequests(come, idx));
            return m;
        });
    }

    @Override
    public void setInternet(int initPid, boolean enabled) {
        execute(initPid, idx -> {
            Route v4 = Route.defaultVia(GATEWAY4, idx, true);
            Route v6 = Route.defaultVia(GATEWAY6, idx, false);
            return enabled ? List.of(Requests.replaceRoute(v4), Requests.replaceRoute(v6))
                    : List.of(deleteRoute(v4), deleteRoute(v6));
        });
    }

    /** New address first: deleting the last IPv4 address would take every IPv4 route with it. */
    @Override
    public void replaceIpv4(int initPid, Inet4Address oldAddress, Inet4Address newAddress) {
        execute(initPid, idx -> replaceAddress(oldAddress, newAddress, 32, false, idx));
    }

    @Override
    public void replaceIpv6(int initPid, Inet6Address oldAddress, Inet6Address newAddress) {
        execute(initPid, idx -> replaceAddress(oldAddress, newAddress, 128, true, idx));
    }

    /** Whatever is held for this init (its namespace's socket); for a stopped or restarted container. */
    @Override
    public void release(int initPid) {
        sockets.release(initPid);
    }

    /** Closes every namespace socket (the agent stops; containers keep running). */
    @Override
    public void close() {
        sockets.close();
    }

    // ------------------------------------------------------------------ requests (package-private for tests)

    static List<Message> addPeerRequests(Peer peer, int idx) {
        List<Message> m = new ArrayList<>(2);
        for (InetAddress a : peerAddresses(peer)) {
            m.add(Requests.replaceRoute(Route.host(a, idx)));
        }
        return m;
    }

    static List<Message> removePeerRequests(Peer peer, int idx) {
        List<Message> m = new ArrayList<>(4);
        for (InetAddress a : peerAddresses(peer)) {
            m.add(deleteRoute(Route.host(a, idx)));
        }
        return m;
    }

    static List<Message> replaceAddress(InetAddress oldAddress, InetAddress newAddress, int prefix, boolean nodad, int idx) {
        List<Message> m = new ArrayList<>(3);
        if (newAddress != null) {
            m.add(Requests.replaceAddress(newAddress, prefix, idx, nodad));
        }
        if (oldAddress != null && !oldAddress.equals(newAddress)) {
            // One change, as deleteRoute's: an old address already gone is no error.
            m.add(Requests.deleteAddress(oldAddress, prefix, idx).tolerating(NetlinkException.EADDRNOTAVAIL));
        }
        return m;
    }

    /**
     * One change per route and address that goes, an absent one being no error; not "replace,
     * then delete" as the ip fallback does (twice the kernel's work: a Disconnect made eight
     * route changes for four). A route of the container's own making to the same destination
     * stays; the firewall decides what passes.
     */
    private static Message deleteRoute(Route r) {
        return Requests.deleteRoute(r).tolerating(NetlinkException.ESRCH);
    }

    private static List<InetAddress> peerAddresses(Peer peer) {
        List<InetAddress> a = new ArrayList<>(2);
        if (peer.ipv4() != null) {
            a.add(peer.ipv4());
        }
        if (peer.ipv6() != null) {
            a.add(peer.ipv6());
        }
        return a;
    }

    // ------------------------------------------------------------------ helpers

    private void execute(int initPid, Function<Integer, List<Message>> requests) {
        NamespaceSockets.Handle h = handle(initPid, null);
        run(h, idx -> {
            List<Message> m = requests.apply(idx);
            if (!m.isEmpty()) {
                h.socket().execute(m);
            }
            return null;
        });
    }

    /**
     * Runs with eth0's index; once more with a fresh look-up when the device went away meanwhile.
     * A socket released meanwhile (the container stopped) is the error of a gone init.
     */
    private static <T> T run(NamespaceSockets.Handle h, Function<Integer, T> work) {
        try {
            try {
                return work.apply(h.linkIndex(IFACE));
            } catch (NetlinkException e) {
                if (e.errno() != NetlinkException.ENODEV) {
                    throw e;
                }
                h.forgetIndexes();
                return work.apply(h.linkIndex(IFACE));
            }
        } catch (NetlinkException e) {
            if (e.errno() == NetlinkException.EBADF) {
                throw gone(h.pid());
            }
            throw e;
        }
    }

    private static HostException gone(int initPid) {
        return HostException.unavailable("The container's init (pid " + initPid + ") is gone: the container stopped meanwhile.");
    }

    private NamespaceSockets.Handle handle(int initPid, Runnable whenOpened) {
        try {
            return sockets.of(initPid, whenOpened);
        } catch (NamespaceSockets.GoneException e) {
            // A container that stopped between the look-up of its init and now.
            throw gone(initPid);
        }
    }

    /** {@code sysctl -w} of {@link NsenterNetns#SYSCTLS}, run by a thread inside the namespace. */
    private static void writeSysctls() {
        for (String setting : NsenterNetns.SYSCTLS) {
            int eq = setting.indexOf('=');
            Path file = Path.of("/proc/sys", setting.substring(0, eq).replace('.', '/'));
            try {
                Files.writeString(file, setting.substring(eq + 1));
            } catch (IOException e) {
                throw new CommandFailedException(List.of("sysctl", "-w", setting), -1, e.toString());
            }
        }
    }

    private static InetAddress literal(String text) {
        try {
            return InetAddress.getByName(text);
        } catch (java.net.UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }
}
