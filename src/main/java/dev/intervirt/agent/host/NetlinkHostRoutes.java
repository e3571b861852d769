package dev.intervirt.agent.host;

import dev.intervirt.agent.host.netlink.Message;
import dev.intervirt.agent.host.netlink.NetlinkException;
import dev.intervirt.agent.host.netlink.NetlinkSocket;
import dev.intervirt.agent.host.netlink.Requests;
import dev.intervirt.agent.host.netlink.Route;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * {@link HostRoutes} over rtnetlink: one socket in the agent's namespace for its whole life,
 * the same routes as {@link IpHostRoutes} (the fallback): {@code ADDR/32 dev BRIDGE} (scope
 * link) and {@code ADDR/128 dev BRIDGE}, protocol boot; removal deletes only a route through
 * the bridge and an absent one is no error. The bridge's index is looked up once and again
 * after "no such device" (libvirt may have made the bridge anew).
 */
public final class NetlinkHostRoutes implements HostRoutes, AutoCloseable {

    private final String bridge;
    private final Supplier<NetlinkSocket> opener;
    private NetlinkSocket socket;
    private volatile int bridgeIndex;

    public NetlinkHostRoutes(String bridge) {
        this(bridge, NetlinkSocket::open);
    }

    /** {@code opener} makes the socket, e.g. inside a test's own namespace. */
    NetlinkHostRoutes(String bridge, Supplier<NetlinkSocket> opener) {
        this.bridge = NftValues.ifname(bridge);
        this.opener = opener;
    }

    @Override
    public void add(InetAddress address) {
        Objects.requireNonNull(address, "address");
        execute(idx -> List.of(addRoute(address, idx)));
    }

    @Override
    public void remove(InetAddress address) {
        Objects.requireNonNull(address, "address");
        execute(idx -> List.of(deleteRoute(address, idx)));
    }

    @Override
    public void addAll(List<? extends InetAddress> addresses) {
        executeEach(addresses, NetlinkHostRoutes::addRoute);
    }

    @Override
    public void removeAll(List<? extends InetAddress> addresses) {
        executeEach(addresses, NetlinkHostRoutes::deleteRoute);
    }

    @Override
    public void move(InetAddress oldAddress, InetAddress newAddress) {
        execute(idx -> List.of(addRoute(newAddress, idx), deleteRoute(oldAddress, idx)));
    }

    private static Message addRoute(InetAddress address, int bridgeIndex) {
        return Requests.replaceRoute(Route.host(address, bridgeIndex));
    }

    /** An absent route is no error. */
    private static Message deleteRoute(InetAddress address, int bridgeIndex) {
        return Requests.deleteRoute(Route.host(address, bridgeIndex)).tolerating(NetlinkException.ESRCH);
    }

    /** One request per address, all in one batch; nothing at all for none. */
    private void executeEach(List<? extends InetAddress> addresses, BiFunction<InetAddress, Integer, Message> request) {
        if (addresses.isEmpty()) {
            return;
        }
        execute(idx -> {
            List<Message> m = new ArrayList<>();
            addresses.forEach(a -> m.add(request.apply(a, idx)));
            return m;
        });
    }

    /**
     * Host routes through the bridge of protocol boot, both families; none when there is no
     * bridge. The bridge is looked up afresh: the network watch asks after repairing a bridge.
     */
    @Override
    public Set<InetAddress> existing() {
        int idx;
        try {
            idx = index(true);
        } catch (NetlinkException e) {
            if (e.errno() == NetlinkException.ENODEV) {
                return Set.of();
            }
            throw e;
        }
        Set<InetAddress> found = new HashSet<>();
        for (Route r : socket().routes(0)) {
            if (r.oif() == idx && r.protocol() == Route.PROTO_BOOT && r.table() == 254 && !r.isDefault()
                    && r.destination() != null) {
                found.add(r.destination());
            }
        }
        return found;
    }

    @Override
    public synchronized void close() {
        if (socket != null) {
            socket.close();
            socket = null;
        }
    }

    private void execute(Function<Integer, List<Message>> requests) {
        try {
            socket().execute(requests.apply(index(false)));
        } catch (NetlinkException e) {
            if (e.errno() != NetlinkException.ENODEV) {
                throw e;
            }
            socket().execute(requests.apply(index(true)));
        }
    }

    private int index(boolean fresh) {
        int idx = bridgeIndex;
        if (idx == 0 || fresh) {
            idx = socket().link(bridge).index();
            bridgeIndex = idx;
        }
        return idx;
    }

    private synchronized NetlinkSocket socket() {
        if (socket == null) {
            socket = opener.get();
        }
        return socket;
    }
}
