package dev.intervirt.agent.host.netlink;

import java.net.InetAddress;

/**
 * The requests the agent makes, each as {@code ip} would send it (every one with
 * {@code NLM_F_ACK}): route replace/delete, address replace/delete, link up, link look-up, and
 * the dumps of routes and addresses.
 */
public final class Requests {

    private static final int REQUEST_ACK = Rtnl.NLM_F_REQUEST | Rtnl.NLM_F_ACK;

    private Requests() {
    }

    /** {@code ip route replace}: creates the route or overwrites the one with the same destination. */
    public static Message replaceRoute(Route r) {
        return route(Rtnl.RTM_NEWROUTE, REQUEST_ACK | Rtnl.NLM_F_CREATE | Rtnl.NLM_F_REPLACE, r, r.scope(), r.protocol(),
                () -> "route replace " + r);
    }

    /** {@code ip route add}: fails with "exists" when the route is there. */
    public static Message addRoute(Route r) {
        return route(Rtnl.RTM_NEWROUTE, REQUEST_ACK | Rtnl.NLM_F_CREATE | Rtnl.NLM_F_EXCL, r, r.scope(), r.protocol(),
                () -> "route add " + r);
    }

    /**
     * {@code ip route del}: matches destination, device and gateway only (scope "nowhere" and
     * protocol 0 are wildcards to the kernel). An absent route is "no such route" (ESRCH).
     */
    public static Message deleteRoute(Route r) {
        return route(Rtnl.RTM_DELROUTE, REQUEST_ACK, r, Rtnl.RT_SCOPE_NOWHERE, 0, () -> "route del " + r);
    }

    private static Message route(int type, int flags, Route r, int scope, int protocol,
                                 java.util.function.Supplier<String> description) {
        // Header 16, rtmsg 12, destination and gateway at most 20 each, device 8.
        Message.Builder m = new Message.Builder(type, flags, 76)
                .u8(r.family()).u8(r.prefix()).u8(0).u8(0)
                .u8(Rtnl.RT_TABLE_MAIN).u8(protocol).u8(scope).u8(type == Rtnl.RTM_DELROUTE ? 0 : Rtnl.RTN_UNICAST)
                .u32(r.onlink() ? Rtnl.RTNH_F_ONLINK : 0);
        if (r.destination() != null) {
            m.attr(Rtnl.RTA_DST, r.destination().getAddress());
        }
        if (r.gateway() != null) {
            m.attr(Rtnl.RTA_GATEWAY, r.gateway().getAddress());
        }
        m.attrU32(Rtnl.RTA_OIF, r.oif());
        return m.build(description);
    }

    /**
     * {@code ip address replace ADDR/PREFIX dev DEV [nodad]}: IPv4 with {@code IFA_LOCAL} and
     * {@code IFA_ADDRESS} both set (no peer), global scope.
     */
    public static Message replaceAddress(InetAddress address, int prefix, int index, boolean nodad) {
        return address(Rtnl.RTM_NEWADDR, REQUEST_ACK | Rtnl.NLM_F_CREATE | Rtnl.NLM_F_REPLACE, address, prefix, index,
                nodad ? Rtnl.IFA_F_NODAD : 0, "address replace");
    }

    /** {@code ip address del ADDR/PREFIX dev DEV}; an absent address is "no such address" (EADDRNOTAVAIL). */
    public static Message deleteAddress(InetAddress address, int prefix, int index) {
        return address(Rtnl.RTM_DELADDR, REQUEST_ACK, address, prefix, index, 0, "address del");
    }

    private static Message address(int type, int flags, InetAddress a, int prefix, int index, int ifaFlags, String verb) {
        // Header 16, ifaddrmsg 8, two addresses of at most 20.
        Message.Builder m = new Message.Builder(type, flags, 64)
                .u8(Message.family(a)).u8(prefix).u8(ifaFlags).u8(Address.SCOPE_GLOBAL).u32(index);
        m.attr(Rtnl.IFA_LOCAL, a.getAddress());
        m.attr(Rtnl.IFA_ADDRESS, a.getAddress());
        return m.build(() -> verb + " " + a.getHostAddress() + "/" + prefix + " dev #" + index);
    }

    /** {@code ip link set dev DEV [address MAC] up}, one message as {@code ip} sends it. */
    public static Message linkUp(int index, byte[] mac) {
        Message.Builder m = new Message.Builder(Rtnl.RTM_NEWLINK, REQUEST_ACK)
                .u8(Rtnl.AF_UNSPEC).u8(0).u16(0).u32(index).u32(Rtnl.IFF_UP).u32(Rtnl.IFF_UP);
        if (mac != null) {
            m.attr(Rtnl.IFLA_ADDRESS, mac);
        }
        return m.build(() -> "link set dev #" + index + " up");
    }

    /** {@code ip link show DEV}: answered by one RTM_NEWLINK, or "no such device". */
    public static Message getLink(String name) {
        return new Message.Builder(Rtnl.RTM_GETLINK, REQUEST_ACK)
                .u8(Rtnl.AF_UNSPEC).u8(0).u16(0).u32(0).u32(0).u32(0)
                .attrString(Rtnl.IFLA_IFNAME, name)
                .build("link show " + name);
    }

    /** Every route of one family (all tables; callers filter). */
    public static Message dumpRoutes(int family) {
        return new Message.Builder(Rtnl.RTM_GETROUTE, Rtnl.NLM_F_REQUEST | Rtnl.NLM_F_DUMP)
                .u8(family).u8(0).u8(0).u8(0).u8(0).u8(0).u8(0).u8(0).u32(0)
                .build("route show");
    }

    /** Every address of one family. */
    public static Message dumpAddresses(int family) {
        return new Message.Builder(Rtnl.RTM_GETADDR, Rtnl.NLM_F_REQUEST | Rtnl.NLM_F_DUMP)
                .u8(family).u8(0).u8(0).u8(0).u32(0)
                .build("address show");
    }

    public static final int IPV4 = Rtnl.AF_INET;
    public static final int IPV6 = Rtnl.AF_INET6;
}
