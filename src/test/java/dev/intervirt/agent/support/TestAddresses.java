package dev.intervirt.agent.support;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;

/** Address literals written in tests, as the types the agent's code takes (no lookups: literals only). */
public final class TestAddresses {

    private TestAddresses() {
    }

    public static Inet4Address ipv4(String literal) {
        return (Inet4Address) parse(literal);
    }

    public static Inet6Address ipv6(String literal) {
        return (Inet6Address) parse(literal);
    }

    private static InetAddress parse(String literal) {
        try {
            return InetAddress.getByName(literal);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("not an address literal: " + literal, e);
        }
    }
}
