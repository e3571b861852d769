package dev.intervirt.agent.host.netlink;

import java.net.InetAddress;

/**
 * A route of the main table: destination (null with prefix 0 for a default route), output
 * device index, optional gateway, scope, on-link flag and protocol ({@code RTPROT_BOOT}, 3,
 * for routes we make, as {@code ip route replace} marks them).
 */
public record Route(int family, InetAddress destination, int prefix, int oif, InetAddress gateway, int scope,
                    boolean onlink, int protocol, int table) {

    public static final int PROTO_KERNEL = 2;
    public static final int PROTO_BOOT = 3;
    public static final int PROTO_STATIC = 4;
    public static final int PROTO_RA = 9;
    public static final int PROTO_DHCP = 16;

    /**
     * {@code ADDR/32} or {@code /128} on the device, as {@code ip route replace ADDR dev DEV}
     * makes it: IPv4 without a gateway gets scope link (what {@code ip} chooses, and what
     * {@code scope link} says explicitly), IPv6 scope universe.
     */
    public static Route host(InetAddress address, int oif) {
        boolean v4 = Message.family(address) == Rtnl.AF_INET;
        return new Route(Message.family(address), address, Message.hostPrefix(address), oif, null,
                v4 ? Rtnl.RT_SCOPE_LINK : Rtnl.RT_SCOPE_UNIVERSE, false, PROTO_BOOT, Rtnl.RT_TABLE_MAIN);
    }

    /** {@code default via GATEWAY dev DEV [onlink]}. */
    public static Route defaultVia(InetAddress gateway, int oif, boolean onlink) {
        return new Route(Message.family(gateway), null, 0, oif, gateway, Rtnl.RT_SCOPE_UNIVERSE, onlink, PROTO_BOOT,
                Rtnl.RT_TABLE_MAIN);
    }

    public boolean isDefault() {
        return prefix == 0;
    }

    /** Same destination, device and gateway: the key a delete matches on. */
    public boolean sameKey(Route other) {
        return family == other.family && prefix == other.prefix && oif == other.oif
                && java.util.Objects.equals(destination, other.destination)
                && java.util.Objects.equals(gateway, other.gateway);
    }

    @Override
    public String toString() {
        String dst = destination == null ? "default" : destination.getHostAddress() + "/" + prefix;
        return dst + (gateway == null ? "" : " via " + gateway.getHostAddress()) + " dev #" + oif
                + (scope == Rtnl.RT_SCOPE_LINK ? " scope link" : "") + (onlink ? " onlink" : "");
    }
}
