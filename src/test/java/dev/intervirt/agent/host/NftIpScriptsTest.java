package dev.intervirt.agent.host;

import dev.intervirt.agent.host.ContainerNetns.Peer;
import dev.intervirt.agent.value.HostAddresses;
import dev.intervirt.agent.value.MacAddress;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.util.List;

import static dev.intervirt.agent.host.NftFirewallTest.v4;
import static dev.intervirt.agent.host.NftFirewallTest.v6;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The iproute2 side that goes with the firewall (NsenterNetns batches, IpHostRoutes command
 * lines), without root. Named Nft* to sit with the firewall tests.
 */
class NftIpScriptsTest {

    @Test
    void configureSetsExactlyTheDesiredStateAddressesFirst() throws Exception {
        HostAddresses a = new HostAddresses(new MacAddress("02:49:56:00:00:0a"), v4("10.0.0.5"), v6("fd00:a::5"));
        List<Peer> peers = List.of(new Peer(v4("172.16.5.5"), v6("fd00:b::5")), new Peer(v4("192.168.7.12"), null));
        assertEquals("""
                link set dev eth0 address 02:49:56:00:00:0a up
                address flush dev eth0 to 0.0.0.0/0
                address flush dev eth0 scope global
                route flush dev eth0
                address add 10.0.0.5/32 dev eth0
                address add fd00:a:0:0:0:0:0:5/128 dev eth0 nodad
                route replace 169.254.0.1/32 dev eth0 scope link
                route replace 172.16.5.5/32 dev eth0 scope link
                route replace 192.168.7.12/32 dev eth0 scope link
                """, NsenterNetns.configureScript(a, peers, false));
        assertEquals("""
                route flush dev eth0 proto boot
                route flush dev eth0 proto static
                route flush dev eth0 proto ra
                route flush dev eth0 proto dhcp
                route replace fe80::1/128 dev eth0
                route replace fd00:b:0:0:0:0:0:5/128 dev eth0
                route replace ::/0 via fe80::1 dev eth0
                """, NsenterNetns.configureIpv6RoutesScript(peers, true));
        assertTrue(NsenterNetns.configureScript(a, peers, true)
                .endsWith("route replace 0.0.0.0/0 via 169.254.0.1 dev eth0 onlink\n"));
    }

    @Test
    void removalsReplaceFirstSoAbsenceIsNoError() throws Exception {
        assertEquals("""
                route replace 172.16.5.5/32 dev eth0 scope link
                route del 172.16.5.5/32 dev eth0 scope link
                route replace fd00:b:0:0:0:0:0:5/128 dev eth0
                route del fd00:b:0:0:0:0:0:5/128 dev eth0
                """, NsenterNetns.removePeerScript(new Peer(v4("172.16.5.5"), v6("fd00:b::5"))));
        assertEquals("""
                route replace 0.0.0.0/0 via 169.254.0.1 dev eth0 onlink
                route replace ::/0 via fe80::1 dev eth0
                route del 0.0.0.0/0 via 169.254.0.1 dev eth0 onlink
                route del ::/0 via fe80::1 dev eth0
                """, NsenterNetns.internetScript(false));
    }

    @Test
    void aPeersMoveTakesOnlyTheAddressesThatChanged() throws Exception {
        Peer before = new Peer(v4("172.16.5.5"), v6("fd00:b::5"));
        Peer after = new Peer(v4("172.16.5.6"), v6("fd00:b::5"));
        assertEquals(new Peer(v4("172.16.5.5"), null), before.without(after));
        assertEquals(new Peer(v4("172.16.5.6"), null), after.without(before));
        assertEquals(new Peer(null, null), before.without(before));
        assertEquals(new Peer(null, v6("fd00:b::5")), before.without(new Peer(v4("172.16.5.5"), null)));
    }

    @Test
    void addressSwapAddsTheNewOneBeforeDeletingTheOld() throws Exception {
        assertEquals("""
                address replace 10.0.0.9/32 dev eth0
                address replace 10.0.0.5/32 dev eth0
                address del 10.0.0.5/32 dev eth0
                """, NsenterNetns.replaceIpv4Script(v4("10.0.0.5"), v4("10.0.0.9")));
        assertEquals("address replace 10.0.0.5/32 dev eth0\n", NsenterNetns.replaceIpv4Script(v4("10.0.0.5"), v4("10.0.0.5")));
        assertEquals("""
                address replace fd00:0:0:0:0:0:0:9/128 dev eth0 nodad
                address replace fd00:0:0:0:0:0:0:5/128 dev eth0 nodad
                address del fd00:0:0:0:0:0:0:5/128 dev eth0
                """, NsenterNetns.replaceIpv6Script(v6("fd00::5"), v6("fd00::9")));
    }

    @Test
    void nsenterRefusesTheAgentsOwnNamespace() {
        assertThrows(IllegalArgumentException.class, () -> NsenterNetns.nsenter(1, "ip"));
        assertThrows(IllegalArgumentException.class, () -> NsenterNetns.nsenter(0, "ip"));
        assertThrows(IllegalArgumentException.class, () -> NsenterNetns.nsenter((int) ProcessHandle.current().pid(), "ip"));
    }

    @Test
    void hostRouteCommandLines() throws Exception {
        IpHostRoutes r = new IpHostRoutes("ivbr0");
        assertEquals(List.of("ip", "-4", "route", "replace", "10.0.0.5/32", "dev", "ivbr0"), r.command("replace", v4("10.0.0.5")));
        assertEquals(List.of("ip", "-6", "route", "del", "fd00:0:0:0:0:0:0:5/128", "dev", "ivbr0"), r.command("del", v6("fd00::5")));
        assertThrows(IllegalArgumentException.class, () -> new IpHostRoutes("bad name"));
        assertThrows(NullPointerException.class, () -> r.add((InetAddress) null));
    }
}
