package dev.intervirt.agent.host;

import dev.intervirt.agent.value.HostAddresses;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.util.Collection;

/**
 * Addresses and routes inside one running container's network namespace, entered through
 * the container's init process id. Interface name inside is always {@code eth0}.
 */
public interface ContainerNetns {

    /** A connected peer: the container gets an on-link host route to each address. */
    record Peer(Inet4Address ipv4, Inet6Address ipv6) {

        /** This peer's addresses that {@code other} has not (null where both have the same one). */
        public Peer without(Peer other) {
            return new Peer(java.util.Objects.equals(ipv4, other.ipv4) ? null : ipv4,
                    java.util.Objects.equals(ipv6, other.ipv6) ? null : ipv6);
        }
    }

    /**
     * Brings eth0 to exactly the desired state after a start: link up, exactly the given
     * IPv4/32 and IPv6/128 (no DAD, no SLAAC/RA), on-link routes to the gateways
     * 169.254.0.1 and fe80::1, one on-link host route per peer, and default routes via the
     * gateways only when {@code internet} is true.
     */
    void configure(int initPid, HostAddresses addresses, Collection<Peer> peers, boolean internet);

    void addPeer(int initPid, Peer peer);

    void removePeer(int initPid, Peer peer);

    void setInternet(int initPid, boolean enabled);

    /** Swaps the container's own IPv4 address (old removed, new added). */
    void replaceIpv4(int initPid, Inet4Address oldAddress, Inet4Address newAddress);

    /** Swaps the container's own IPv6 address (old removed, new added). */
    void replaceIpv6(int initPid, Inet6Address oldAddress, Inet6Address newAddress);

    /**
     * Moves the routes to a peer that changed an address; the route of an address it kept is
     * left alone (an IPv4 change does not interrupt IPv6 traffic to it).
     */
    default void replacePeer(int initPid, Peer oldPeer, Peer newPeer) {
        removePeer(initPid, oldPeer.without(newPeer));
        addPeer(initPid, newPeer.without(oldPeer));
    }

    /**
     * The container whose init this was stopped, or its init changed (restart): let go of
     * whatever is held for it (an open handle on its namespace). Idempotent.
     */
    default void release(int initPid) {
    }

    /** Lets go of everything held (the agent stops); the containers' network stays as it is. */
    default void close() {
    }
}
