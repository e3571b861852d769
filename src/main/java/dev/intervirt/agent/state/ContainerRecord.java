package dev.intervirt.agent.state;

import dev.intervirt.agent.value.HostAddresses;
import dev.intervirt.agent.value.ImageName;
import dev.intervirt.agent.value.MacAddress;

import java.net.Inet4Address;
import java.net.Inet6Address;

/**
 * The desired state of one container. {@code slot} is a number unique among the agent's
 * containers that names its host-side interface ({@code ivc<slot>}, within the 15-character
 * limit whatever the id's length).
 */
public record ContainerRecord(String id, int slot, MacAddress mac, Inet4Address ipv4, Inet6Address ipv6,
                              boolean internet, ImageName image, boolean running) {

    public static final String PORT_PREFIX = "ivc";

    /** The host-side veth on the agent's bridge. */
    public String port() {
        return PORT_PREFIX + slot;
    }

    public HostAddresses addresses() {
        return new HostAddresses(mac, ipv4, ipv6);
    }

    public ContainerRecord withRunning(boolean value) {
        return new ContainerRecord(id, slot, mac, ipv4, ipv6, internet, image, value);
    }

    public ContainerRecord withInternet(boolean value) {
        return new ContainerRecord(id, slot, mac, ipv4, ipv6, value, image, running);
    }

    public ContainerRecord withIpv4(Inet4Address value) {
        return new ContainerRecord(id, slot, mac, value, ipv6, internet, image, running);
    }

    public ContainerRecord withIpv6(Inet6Address value) {
        return new ContainerRecord(id, slot, mac, ipv4, value, internet, image, running);
    }
}
