package dev.intervirt.agent.host;

import dev.intervirt.agent.value.MacAddress;
import dev.intervirt.agent.value.Protocol;

import java.net.Inet4Address;
import java.net.Inet6Address;

/**
 * Where firewall elements are added: the live {@link Firewall} (each call its own change) or
 * the batch that {@link Firewall#replaceElements} applies as one transaction. Callers that add
 * a container's elements take this type, so the same code serves a request and the reconciler.
 */
public interface FirewallElements {

    /** Registers the addresses a port may send from. Idempotent. */
    void addPort(String port, MacAddress mac, Inet4Address ipv4, Inet6Address ipv6);

    /** Lets two ports exchange bridged traffic (both directions). Idempotent. */
    void link(String portA, String portB);

    /** Grants or revokes NATed access beyond the guest for a container's addresses. Idempotent. */
    void setInternet(Inet4Address ipv4, Inet6Address ipv6, boolean enabled);

    /**
     * DNATs guest traffic to {@code protocol/externalPort} to {@code target:internalPort}. The live
     * firewall replaces any previous mapping; in a batch a key mapped twice fails the transaction.
     */
    void addForward(Protocol protocol, int externalPort, Inet4Address target, int internalPort);
}
