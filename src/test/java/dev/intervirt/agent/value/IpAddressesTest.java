package dev.intervirt.agent.value;

import dev.intervirt.agent.value.IpAddresses.InvalidAddressException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.NullSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.security.Permission;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class IpAddressesTest {

    /** The parse fails with a message that gives {@code reason}. */
    static void assertRefusedWithReason(Executable parse, String reason) {
        InvalidAddressException e = assertThrows(InvalidAddressException.class, parse);
        assertTrue(e.getMessage().contains(reason), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"192.168.7.12", "192.168.0.0", "192.168.0.255", "10.0.0.5", "1.0.0.0", "8.8.8.8",
            "223.255.255.254", "126.255.255.255", "128.0.0.1", "169.253.255.255", "169.255.0.1", "172.16.0.1", "100.64.0.1"})
    void acceptsUnicastIpv4(String text) throws Exception {
        Inet4Address a = IpAddresses.parseIpv4(text);
        assertEquals(InetAddress.getByName(text), a);
        assertEquals(text, IpAddresses.format(a));
    }

    @ParameterizedTest
    @CsvSource({
            "0.0.0.0, 0.0.0.0/8", "0.255.255.255, 0.0.0.0/8",
            "127.0.0.1, loopback", "127.1.2.3, loopback",
            "169.254.1.1, link-local", "169.254.0.1, link-local",
            "224.0.0.1, multicast", "239.1.2.3, multicast",
            "240.0.0.1, reserved", "255.255.255.255, broadcast"})
    void refusesSpecialIpv4WithAReason(String text, String reason) {
        assertRefusedWithReason(() -> IpAddresses.parseIpv4(text), reason);
    }

    @ParameterizedTest
    @NullSource
    @ValueSource(strings = {"1.2.3", "1.2.3.4.5", "01.2.3.4", "1.02.3.4", "00.1.2.3", "1.2.3.4 ", " 1.2.3.4", "1.2.3.4\n",
            "256.0.0.1", "1.2.3.256", "-1.2.3.4", "1..2.3", "0x01.2.3.4", "1e2.0.0.1", "", "localhost", "example.com",
            "1.2.3.4/32", "::ffff:1.2.3.4", "fd00::1", "١.2.3.4", "1.2.3.4%eth0", "16909060"})
    void refusesMalformedIpv4(String text) {
        assertThrows(InvalidAddressException.class, () -> IpAddresses.parseIpv4(text));
    }

    @ParameterizedTest
    @ValueSource(strings = {"fd3:a:1f::5", "fd00:3452:2312:ab32:cdaa:4444:aaaa:bcda", "FD00::1", "2001:db8::1",
            "fd12:3:4:5:6:7:8:9", "fc00::", "fec0::1", "fd00::192.168.0.1", "::2"})
    void acceptsIpv6(String text) throws Exception {
        Inet6Address a = IpAddresses.parseIpv6(text);
        assertEquals(InetAddress.getByName(text), a);
    }

    @Test
    void formatsIpv6WithoutScope() throws Exception {
        Inet6Address a = IpAddresses.parseIpv6("fd3:a:1f::5");
        String f = IpAddresses.format(a);
        assertFalse(f.contains("%"), f);
        assertEquals(a, InetAddress.getByName(f));
        Inet6Address scoped = Inet6Address.getByAddress(null, a.getAddress(), 3);
        assertFalse(IpAddresses.format(scoped).contains("%"));
        assertEquals(f, IpAddresses.format(scoped));
    }

    @ParameterizedTest
    @CsvSource({
            "'::', unspecified", "'::1', loopback", "'fe80::1', link-local", "'febf:ffff::1', link-local",
            "'ff02::1', multicast", "'ff00::', multicast", "'FF05::2', multicast",
            "'::ffff:1.2.3.4', IPv4-mapped", "'::ffff:7f00:1', IPv4-mapped"})
    void refusesSpecialIpv6WithAReason(String text, String reason) {
        assertRefusedWithReason(() -> IpAddresses.parseIpv6(text), reason);
    }

    @ParameterizedTest
    @NullSource
    @ValueSource(strings = {"fe80::1%eth0", "fe80::1%1", "fd00::1%eth0", "localhost", "ip6-localhost", "fd00:3452",
            "1:2:3:4:5:6:7:8:9", "fd00::g", "fd00:::1", "", ":", " fd00::1", "fd00::1 ", "[fd00::1]", "fd00::1/64",
            "192.168.0.1", "12345::1", ".:1", ".::", "..:1", "fd00::1.2.3", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"})
    void refusesMalformedIpv6(String text) {
        assertThrows(InvalidAddressException.class, () -> IpAddresses.parseIpv6(text));
    }

    /**
     * No input may cause a name lookup. Up to JDK 17, InetAddress asks the security manager
     * ({@code checkConnect(host, -1)}) before every lookup, so a recording manager sees each one.
     */
    @Test
    @SuppressWarnings("removal")
    void noNameLookupForAnyInput() {
        List<String> lookups = Collections.synchronizedList(new ArrayList<>());
        SecurityManager recorder = new SecurityManager() {
            @Override
            public void checkPermission(Permission perm) {
            }

            @Override
            public void checkPermission(Permission perm, Object context) {
            }

            @Override
            public void checkConnect(String host, int port) {
                if (port == -1) {
                    lookups.add(host);
                }
            }
        };
        try {
            System.setSecurityManager(recorder);
        } catch (UnsupportedOperationException e) {
            org.junit.jupiter.api.Assumptions.abort("security manager not available on this JDK: " + e);
        }
        try {
            List<String> inputs = List.of("localhost", "example.com", "ip6-localhost", ".:1", ".::", "..:1", ".1:2",
                    "a.b:c", "fe80::1%eth0", "fd3:a:1f::5", "::ffff:1.2.3.4", "1.2.3", "1.2.3.4", "::1", "fd00:3452");
            for (String s : inputs) {
                swallow(() -> IpAddresses.parseIpv4(s));
                swallow(() -> IpAddresses.parseIpv6(s));
            }
        } finally {
            System.setSecurityManager(null);
        }
        assertEquals(List.of(), lookups, "name lookups happened");
    }

    private static void swallow(Executable e) {
        try {
            e.execute();
        } catch (Throwable ignored) {
            // only the lookups matter here
        }
    }
}
