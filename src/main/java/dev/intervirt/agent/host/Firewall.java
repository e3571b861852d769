package dev.intervirt.agent.host;

import dev.intervirt.agent.value.MacAddress;
import dev.intervirt.agent.value.Protocol;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.util.function.Consumer;

/**
 * The agent's nftables state. It owns its tables by name and changes them element by element
 * (O(1) per call, no ruleset rebuild on the request path).
 *
 * <p>A "port" is the host-side veth of one container on the agent's bridge. Packets entering
 * the bridge from a port are dropped unless their source MAC/IPv4/IPv6 is the one registered
 * for that port (anti-spoofing). Bridged traffic between two ports passes only for linked
 * pairs. Containers never reach the guest's own services; internet access is per container
 * address; port forwards DNAT from any guest interface (and the guest's loopback) to a
 * container.
 */
public interface Firewall extends FirewallElements {

    /** Ends what the firewall keeps running (the nft session); the rules stay. */
    default void close() {
    }

    /** Creates the agent's tables, chains and sets if missing; keeps existing elements. */
    void install();

    /** Whether the agent's tables are in place (false after someone deleted them). */
    default boolean isInstalled() {
        return true;
    }

    /** Deletes the agent's tables entirely (uninstall, tests). */
    void uninstall();

    /** Empties every set and map of the agent (wipe), keeping tables and chains. */
    void flushElements();

    /**
     * Replaces the whole element state: every set and map flushed, then what {@code elements} adds
     * to the {@link FirewallElements} it is handed; throws if that fails. {@link NftFirewall} does
     * it in one transaction; this default flushes, then adds through the live mutators (not atomic).
     */
    default void replaceElements(Consumer<FirewallElements> elements) {
        flushElements();
        elements.accept(this);
    }

    /** Removes the registration of a port (no error if absent). */
    void removePort(String port, MacAddress mac, Inet4Address ipv4, Inet6Address ipv6);

    /** Re-registers a port with new addresses (an address change), as one change where possible. */
    default void movePort(String port, MacAddress mac, Inet4Address oldIpv4, Inet6Address oldIpv6,
                          Inet4Address newIpv4, Inet6Address newIpv6) {
        removePort(port, mac, oldIpv4, oldIpv6);
        addPort(port, mac, newIpv4, newIpv6);
    }

    /**
     * Makes sure the addresses have no internet access, whether they had it or not: for a
     * container whose access the topology says is off (its add, its removal). As
     * {@code setInternet(ipv4, ipv6, false)} unless an implementation has a cheaper form.
     */
    default void clearInternet(Inet4Address ipv4, Inet6Address ipv6) {
        setInternet(ipv4, ipv6, false);
    }

    /** Stops bridged traffic between two ports (no error if absent). */
    void unlink(String portA, String portB);

    /** Points an existing forward at a new target (an address change); as {@link #addForward} if absent. */
    default void replaceForward(Protocol protocol, int externalPort, Inet4Address target, int internalPort) {
        addForward(protocol, externalPort, target, internalPort);
    }

    /** Removes a forward (no error if absent). */
    void removeForward(Protocol protocol, int externalPort);
}
