package dev.intervirt.agent.host;

import java.net.InetAddress;

/** Host routes on the guest that point a container address at the agent's bridge. */
public interface HostRoutes {

    /** Adds (or replaces) {@code address/32} or {@code /128} via the bridge. Idempotent. */
    void add(InetAddress address);

    /** Removes the route (no error if absent). */
    void remove(InetAddress address);

    /** The container routes through the bridge that exist now (for removing strays at start). */
    default java.util.Set<InetAddress> existing() {
        return java.util.Set.of();
    }

    /** Points {@code newAddress} at the bridge and drops {@code oldAddress}, as one step where possible. */
    default void move(InetAddress oldAddress, InetAddress newAddress) {
        add(newAddress);
        remove(oldAddress);
    }
}
