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

    /** Adds every route, in one step where possible (one process instead of one per address). */
    default void addAll(java.util.List<? extends InetAddress> addresses) {
        addresses.forEach(this::add);
    }

    /** Removes every route (absent ones are no error), in one step where possible. */
    default void removeAll(java.util.List<? extends InetAddress> addresses) {
        addresses.forEach(this::remove);
    }

    /** Lets go of what is held open (the agent stops); the routes stay. */
    default void close() {
    }

    /** Points {@code newAddress} at the bridge and drops {@code oldAddress}, as one step where possible. */
    default void move(InetAddress oldAddress, InetAddress newAddress) {
        add(newAddress);
        remove(oldAddress);
    }
}
