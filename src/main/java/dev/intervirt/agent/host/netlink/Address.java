package dev.intervirt.agent.host.netlink;

import java.net.Inet6Address;
import java.net.InetAddress;

/** An interface address: {@code address/prefix} on device {@code index}, with its scope. */
public record Address(InetAddress address, int prefix, int index, int scope) {

    public static final int SCOPE_GLOBAL = 0;

    public boolean isIpv6() {
        return address instanceof Inet6Address;
    }

    @Override
    public String toString() {
        return address.getHostAddress() + "/" + prefix + " dev #" + index;
    }
}
