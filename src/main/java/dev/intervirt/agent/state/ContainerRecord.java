package dev.intervirt.agent.state;

import dev.intervirt.agent.value.HostAddresses;
import dev.intervirt.agent.value.ImageName;
import dev.intervirt.agent.value.MacAddress;

import java.net.Inet4Address;
import java.net.Inet6Address;

/**
 * The desired state of one container. {@code port} names its host-side interface on the
 * agent's bridge: a configured prefix and a number unique among the agent's containers, so it
 * fits the 15-character limit whatever the id's length, and stays stable across restarts.
 */
public record ContainerRecord(String id, String port, MacAddress mac, Inet4Address ipv4, Inet6Address ipv6,
                              boolean internet, ImageName image, boolean running) {

    public HostAddresses addresses() {
        return new HostAddresses(mac, ipv4, ipv6);
    }

    public ContainerRecord withRunning(boolean value) {
        return new ContainerRecord(id, port, mac, ipv4, ipv6, internet, image, value);
    }

    public ContainerRecord withInternet(boolean value) {
        return new ContainerRecord(id, port, mac, ipv4, ipv6, value, image, running);
    }

    public ContainerRecord withIpv4(Inet4Address value) {
        return new ContainerRecord(id, port, mac, value, ipv6, internet, image, running);
    }

    public ContainerRecord withIpv6(Inet6Address value) {
        return new ContainerRecord(id, port, mac, ipv4, value, internet, image, running);
    }
}
