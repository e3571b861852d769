package dev.intervirt.agent.host;

import dev.intervirt.agent.host.ContainerNetns.Peer;
import dev.intervirt.agent.host.netlink.NamespaceSockets;
import dev.intervirt.agent.host.netlink.Namespaces;
import dev.intervirt.agent.host.netlink.TestNamespace;
import dev.intervirt.agent.value.HostAddresses;
import dev.intervirt.agent.value.MacAddress;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The netlink adapters against the real kernel, side by side with the {@code nsenter}/{@code ip}
 * fallbacks they replace: the same operations on two namespaces of the test's own leave the
 * same addresses, routes, link state and sysctls (as {@code ip} shows them from outside). Then:
 * a stopped init is the same protocol error as before, and 10,000 operations plus a hundred
 * namespace sockets opened and released leave no file descriptor and no thread behind.
 */
class NetlinkAdaptersIT {

    private static final HostAddresses ADDRESSES =
            new HostAddresses(MacAddress.parseLoose("02:00:00:aa:bb:cc"), v4("10.0.0.5"), v6("fd00::5"));

    private TestNamespace nsenterSide;
    private TestNamespace netlinkSide;
    private int nsenterPid;
    private int netlinkPid;
    private final NetlinkNetns netlink = new NetlinkNetns();
    private final NsenterNetns nsenter = new NsenterNetns();

    @BeforeEach
    void setUp() {
        nsenterSide = new TestNamespace();
        netlinkSide = new TestNamespace();
        nsenterPid = nsenterSide.startInit();
        netlinkPid = netlinkSide.startInit();
        waitForNamespace(nsenterPid, nsenterSide);
        waitForNamespace(netlinkPid, netlinkSide);
    }

    @AfterEach
    void tearDown() throws InterruptedException {
        netlink.release(netlinkPid);
        nsenterSide.close();
        netlinkSide.close();
    }

    @Test
    void netlinkLeavesExactlyWhatNsenterLeaves() {
        for (TestNamespace ns : List.of(nsenterSide, netlinkSide)) {
            // what an image's own network configuration might have left on eth0
            ns.ip("link", "set", "eth0", "up");
            ns.ip("address", "add", "192.168.5.5/24", "dev", "eth0");
            ns.ip("-6", "address", "add", "fd99::1/64", "dev", "eth0", "nodad");
            ns.ip("route", "add", "10.99.0.0/16", "dev", "eth0");
            ns.ip("-6", "route", "add", "fd98::/64", "dev", "eth0", "proto", "static");
        }
        Peer p6 = new Peer(v4("10.0.0.6"), v6("fd00::6"));
        Peer p7 = new Peer(v4("10.0.0.7"), null);
        both(n -> n.configure(pid(n), ADDRESSES, List.of(p6, p7), true));
        String configured = sameState();
        assertTrue(configured.contains("default via 169.254.0.1 dev eth0 proto boot scope global onlink"), configured);
        assertTrue(configured.contains("default via fe80::1 dev eth0 proto boot"), configured);
        assertTrue(configured.contains("10.0.0.7 dev eth0 proto boot scope link"), configured);
        assertTrue(configured.contains("inet6 fd00::5/128 scope global nodad"), configured);
        assertFalse(configured.contains("192.168.5.5") || configured.contains("fd99::1") || configured.contains("10.99.0.0")
                || configured.contains("fd98::"), configured);
        assertTrue(configured.contains("accept_ra = 0"), configured);

        Peer p8 = new Peer(v4("10.0.0.8"), v6("fd00::8"));
        both(n -> n.addPeer(pid(n), p8));
        both(n -> n.removePeer(pid(n), p6));
        both(n -> n.removePeer(pid(n), p6)); // absent: no error
        assertTrue(sameState().contains("fd00::8 dev eth0"));

        both(n -> n.setInternet(pid(n), false));
        both(n -> n.setInternet(pid(n), false));
        assertFalse(sameState().contains("default via"));
        both(n -> n.setInternet(pid(n), true));
        sameState();

        both(n -> n.replaceIpv4(pid(n), v4("10.0.0.5"), v4("10.0.0.50")));
        both(n -> n.replaceIpv6(pid(n), v6("fd00::5"), v6("fd00::50")));
        both(n -> n.replacePeer(pid(n), p7, new Peer(v4("10.0.0.70"), v6("fd00::70"))));
        String changed = sameState();
        assertTrue(changed.contains("inet 10.0.0.50/32") && !changed.contains("10.0.0.5/32"), changed);
        assertTrue(changed.contains("default via 169.254.0.1"), "routes survive the address change: " + changed);

        // a peer's IPv4 change leaves its IPv6 route as it is (its traffic does not blip): a mark on it stays
        for (TestNamespace side : List.of(nsenterSide, netlinkSide)) {
            side.ip("-6", "route", "change", "fd00::70", "dev", "eth0", "mtu", "1300");
        }
        both(n -> n.replacePeer(pid(n), new Peer(v4("10.0.0.70"), v6("fd00::70")), new Peer(v4("10.0.0.71"), v6("fd00::70"))));
        String moved = sameState();
        assertTrue(moved.contains(" 10.0.0.71 dev eth0 ") && !moved.contains(" 10.0.0.70 dev eth0 "), moved);
        assertTrue(moved.lines().anyMatch(l -> l.contains(" fd00::70 dev eth0 ") && l.contains(" mtu 1300 ")), moved);

        both(n -> n.configure(pid(n), ADDRESSES, List.of(), false));
        String reconfigured = sameState();
        assertFalse(reconfigured.contains("10.0.0.8") || reconfigured.contains("default via"), reconfigured);
    }

    @Test
    void aStoppedInitIsTheSameErrorAsBeforeOnceItsLastCheckIsASecondOld() throws InterruptedException {
        netlink.configure(netlinkPid, ADDRESSES, List.of(), false);
        netlink.addPeer(netlinkPid, new Peer(v4("10.0.0.9"), null));
        long checked = System.nanoTime();
        netlinkSide.stopInit();
        if (System.nanoTime() - checked < NamespaceSockets.TRUSTED_NANOS / 2) {
            // within the trusted second the change reaches the namespace the socket keeps, as one made just before the stop
            netlink.addPeer(netlinkPid, new Peer(v4("10.0.0.10"), null));
            assertTrue(netlinkSide.ip("route", "show").contains("10.0.0.10"), "the kept namespace took the change");
        }
        Thread.sleep(java.util.concurrent.TimeUnit.NANOSECONDS.toMillis(NamespaceSockets.TRUSTED_NANOS) + 100);
        HostException e = assertThrows(HostException.class, () -> netlink.addPeer(netlinkPid, new Peer(v4("10.0.0.9"), null)));
        assertEquals(HostException.Kind.UNAVAILABLE, e.kind(), "code 4 at the dispatcher");
        assertTrue(e.getMessage().contains("is gone: the container stopped meanwhile"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> netlink.addPeer((int) ProcessHandle.current().pid(),
                new Peer(v4("10.0.0.9"), null)), "the agent's own namespace is refused");
    }

    @Test
    void tenThousandOperationsLeaveNoDescriptorOrThreadBehind() throws Exception {
        NamespaceSockets sockets = new NamespaceSockets();
        NetlinkNetns n = new NetlinkNetns(sockets);
        n.configure(netlinkPid, ADDRESSES, List.of(), false);
        Peer peer = new Peer(v4("10.0.1.1"), v6("fd00::1:1"));
        for (int i = 0; i < 500; i++) { // warm-up: classes loaded, code compiled
            n.addPeer(netlinkPid, peer);
            n.removePeer(netlinkPid, peer);
        }
        for (int i = 0; i < 10; i++) { // and the namespace-entering threads started (a few are kept)
            n.release(netlinkPid);
            n.addPeer(netlinkPid, peer);
        }
        n.release(netlinkPid);
        long fds = count("/proc/self/fd");
        long threads = settledThreads(Long.MAX_VALUE);
        for (int i = 0; i < 5_000; i++) {
            n.addPeer(netlinkPid, peer);
            n.removePeer(netlinkPid, peer);
        }
        for (int i = 0; i < 100; i++) { // a hundred restarts: socket opened (a thread enters) and released
            n.addPeer(netlinkPid, peer);
            n.release(netlinkPid);
        }
        n.setInternet(netlinkPid, true);
        assertEquals(1, sockets.size());
        n.release(netlinkPid);
        assertEquals(0, sockets.size());
        assertEquals(fds, count("/proc/self/fd"), "file descriptors after 10,000 operations and 100 reopenings");
        long after = settledThreads(threads);
        assertTrue(after <= threads, "threads: " + threads + " before, " + after + " after");
        assertTrue(netlinkSide.ip("route", "show").contains("default via 169.254.0.1"), "the last operation took effect");
    }

    @Test
    void hostRoutesAreTheSameAsWithIp() throws Exception {
        IpHostRoutes ip = new IpHostRoutes("eth0", List.of("ip", "netns", "exec", nsenterSide.name));
        try (NetlinkHostRoutes nl = new NetlinkHostRoutes("eth0", () -> Namespaces.openSocket(netlinkSide.file()))) {
            for (TestNamespace ns : List.of(nsenterSide, netlinkSide)) {
                ns.ip("link", "set", "eth0", "up");
            }
            List<HostRoutes> routes = List.of(ip, nl);
            InetAddress a4 = v4("10.0.2.1");
            InetAddress a6 = v6("fd00::2:1");
            routes.forEach(r -> r.add(a4));
            routes.forEach(r -> r.addAll(List.of(v4("10.0.2.2"), v6("fd00::2:2"), a6)));
            routes.forEach(r -> r.remove(v4("10.0.2.2")));
            routes.forEach(r -> r.remove(v4("10.0.2.2"))); // absent: no error
            routes.forEach(r -> r.move(a4, v4("10.0.2.3")));
            String state = sameRoutes();
            assertTrue(state.contains("10.0.2.3 dev eth0 proto boot scope link") && !state.contains("10.0.2.1 "), state);
            assertEquals(Set.of(v4("10.0.2.3"), v6("fd00::2:2"), a6), nl.existing());
            assertEquals(ip.existing(), nl.existing());
            routes.forEach(r -> r.removeAll(List.of(v4("10.0.2.3"), v6("fd00::2:2"), a6, v4("10.0.2.9"))));
            assertEquals(Set.of(), nl.existing());
            assertFalse(sameRoutes().contains("proto boot"));
            CommandFailedException noBridge = assertThrows(CommandFailedException.class,
                    () -> new NetlinkHostRoutes("nobridge0", () -> Namespaces.openSocket(netlinkSide.file())).add(a4));
            assertTrue(noBridge.getMessage().contains("no such device"), noBridge.getMessage());
            assertEquals(Set.of(), new NetlinkHostRoutes("nobridge0", () -> Namespaces.openSocket(netlinkSide.file())).existing());
        }
    }

    // ------------------------------------------------------------------ helpers

    private void both(Consumer<ContainerNetns> operation) {
        operation.accept(nsenter);
        operation.accept(netlink);
    }

    private int pid(ContainerNetns n) {
        return n == nsenter ? nsenterPid : netlinkPid;
    }

    /** Asserts that both namespaces show the same eth0 and returns what they show. */
    private String sameState() {
        String expected = state(nsenterSide);
        assertEquals(expected, state(netlinkSide));
        return expected;
    }

    private String sameRoutes() {
        String expected = routes(nsenterSide);
        assertEquals(expected, routes(netlinkSide));
        return expected;
    }

    private static String state(TestNamespace ns) {
        String link = ns.ip("-o", "link", "show", "eth0").replaceFirst("^\\d+: ", "").replaceAll("link-netnsid \\d+", "");
        // the link-local address comes from the MAC the veth was made with, random per namespace
        String addresses = ns.ip("address", "show", "dev", "eth0").replaceAll("(?m)^ *inet6 fe80::\\S+ scope link.*\n.*\n", "")
                .lines().skip(1).collect(Collectors.joining("\n"));
        String sysctls = ProcessRunner.run(List.of("ip", "netns", "exec", ns.name, "sysctl",
                "net.ipv6.conf.eth0.accept_ra", "net.ipv6.conf.eth0.autoconf", "net.ipv6.conf.eth0.accept_dad",
                "net.ipv6.conf.eth0.use_tempaddr", "net.ipv6.conf.eth0.router_solicitations",
                "net.ipv6.conf.eth0.disable_ipv6"));
        return link + "\n" + addresses + "\n" + routes(ns) + sysctls;
    }

    private static String routes(TestNamespace ns) {
        return ns.ip("-d", "route", "show", "table", "main") + ns.ip("-d", "-6", "route", "show", "table", "main");
    }

    private static void waitForNamespace(int pid, TestNamespace ns) {
        // "ip netns exec" enters the namespace before it runs sleep: wait until the pid is inside
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (System.nanoTime() < deadline) {
            try {
                if (Files.readSymbolicLink(Path.of("/proc", Integer.toString(pid), "ns", "net"))
                        .equals(Files.readSymbolicLink(Path.of("/proc/self/ns/net")))) {
                    Thread.sleep(5);
                    continue;
                }
                return;
            } catch (IOException | InterruptedException e) {
                throw new IllegalStateException(e);
            }
        }
        throw new IllegalStateException("pid " + pid + " never entered " + ns.name);
    }

    private static long count(String dir) throws IOException {
        try (Stream<Path> s = Files.list(Path.of(dir))) {
            return s.count();
        }
    }

    /** The thread count once threads that are ending have gone (waits up to 3 s for {@code target}). */
    private static long settledThreads(long target) throws Exception {
        long deadline = System.nanoTime() + 3_000_000_000L;
        long n = count("/proc/self/task");
        while (n > target && System.nanoTime() < deadline) {
            Thread.sleep(50);
            n = count("/proc/self/task");
        }
        return n;
    }

    private static Inet4Address v4(String s) {
        try {
            return (Inet4Address) InetAddress.getByName(s);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static Inet6Address v6(String s) {
        try {
            return (Inet6Address) InetAddress.getByName(s);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
