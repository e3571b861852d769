package dev.intervirt.agent.value;

import java.net.Inet4Address;
import java.net.Inet6Address;

/** The addresses one container carries on its eth0 (besides the kernel's own fe80::). */
public record HostAddresses(MacAddress mac, Inet4Address ipv4, Inet6Address ipv6) {
}
