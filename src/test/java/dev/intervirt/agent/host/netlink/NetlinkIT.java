package dev.intervirt.agent.host.netlink;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The rtnetlink layer against the real kernel, in a namespace of the test's own (checked with
 * {@code ip} from outside): routes and addresses added, replaced and deleted in both families,
 * link up and look-up, and the kernel's refusals as clear errors.
 */
class NetlinkIT {

    private TestNamespace ns;
    private NetlinkSocket socket;
    private int eth0;

    @BeforeEach
    void setUp() {
        ns = new TestNamespace();
        socket = Namespaces.openSocket(ns.file());
        eth0 = socket.link("eth0").index();
    }

    @AfterEach
    void tearDown() throws InterruptedException {
        socket.close();
        ns.close();
    }

    private static InetAddress a(String literal) throws Exception {
        return InetAddress.getByName(literal);
    }

    @Test
    void theSocketActsInTheNamespaceItWasOpenedIn() {
        String shown = ns.ip("-o", "link", "show", "eth0");
        assertTrue(shown.startsWith(eth0 + ": eth0@"), shown);
        assertEquals("eth0", socket.link("eth0").name());
        assertFalse(socket.link("eth0").isUp());
        socket.execute(Requests.linkUp(eth0, new byte[]{2, 0, 0, 0, 0x12, 0x34}));
        assertTrue(socket.link("eth0").isUp());
        String link = ns.ip("link", "show", "eth0");
        assertTrue(link.contains("state UP") || link.contains(",UP"), link);
        assertTrue(link.contains("02:00:00:00:12:34"), link);
        assertEquals(0, socket.link("eth0").master());
    }

    /**
     * The entering threads are kept (at most {@link Namespaces#THREADS}): twenty entries, with a
     * failing work among them, run on no more threads than that, and each thread is back in the
     * agent's namespace once an entry has returned (read from outside, under /proc/self/task).
     */
    @Test
    void enteringThreadsAreReusedAndAreHomeAfterEveryEntry() throws Exception {
        String home = namespaceOf(Path.of("/proc/thread-self"));
        String target = "net:[" + Files.getAttribute(ns.file(), "unix:ino") + "]";
        assertEquals(target, Namespaces.inside(ns.file(), () -> namespaceOf(currentTask())), "inside, in the target");
        java.util.Set<Path> threads = new java.util.HashSet<>();
        for (int i = 0; i < 20; i++) {
            if (i == 10) {
                assertThrows(IllegalStateException.class, () -> Namespaces.inside(ns.file(), () -> {
                    throw new IllegalStateException("the work fails");
                }));
            }
            Path task = Namespaces.inside(ns.file(), NetlinkIT::currentTask);
            assertEquals(home, namespaceOf(task), "after entry " + i + ", its thread is home");
            threads.add(task);
        }
        assertTrue(threads.size() <= Namespaces.THREADS, "threads used: " + threads);
    }

    /** The calling thread's directory, /proc/PID/task/TID. */
    private static Path currentTask() throws java.io.IOException {
        return Path.of("/proc").resolve(Files.readSymbolicLink(Path.of("/proc/thread-self")));
    }

    private static String namespaceOf(Path task) throws java.io.IOException {
        return Files.readSymbolicLink(task.resolve("ns/net")).toString();
    }

    @Test
    void ipv4RoutesAreAddedReplacedAndDeleted() throws Exception {
        socket.execute(Requests.linkUp(eth0, null));
        Route peer = Route.host(a("10.9.8.7"), eth0);
        socket.execute(Requests.addRoute(peer));
        // proto boot, as "ip route replace" marks routes ("ip route show" leaves the default out)
        assertTrue(ns.ip("route", "show", "proto", "boot").contains("10.9.8.7 dev eth0 scope link"), ns.ip("route", "show"));

        NetlinkException exists = assertThrows(NetlinkException.class, () -> socket.execute(Requests.addRoute(peer)));
        assertEquals(NetlinkException.EEXIST, exists.errno());
        assertTrue(exists.getMessage().contains("exists"), exists.getMessage());

        socket.execute(Requests.replaceRoute(peer), Requests.replaceRoute(peer));
        socket.execute(Requests.replaceRoute(Route.host(a("169.254.0.1"), eth0)),
                Requests.replaceRoute(Route.defaultVia(a("169.254.0.1"), eth0, true)));
        String routes = ns.ip("route", "show");
        assertTrue(routes.contains("default via 169.254.0.1 dev eth0 onlink"), routes);
        assertTrue(socket.routes(Requests.IPV4).stream().anyMatch(r -> r.isDefault() && r.onlink() && r.oif() == eth0));

        socket.execute(Requests.deleteRoute(peer));
        assertFalse(ns.ip("route", "show").contains("10.9.8.7"));
        NetlinkException absent = assertThrows(NetlinkException.class, () -> socket.execute(Requests.deleteRoute(peer)));
        assertEquals(NetlinkException.ESRCH, absent.errno());
        assertTrue(absent.getMessage().contains("no such route"), absent.getMessage());
        socket.execute(Requests.deleteRoute(peer).tolerating(NetlinkException.ESRCH)); // tolerated: no error
    }

    @Test
    void ipv6RoutesAreAddedReplacedAndDeleted() throws Exception {
        socket.execute(Requests.linkUp(eth0, null));
        Route peer = Route.host(a("fd00::42"), eth0);
        socket.execute(Requests.addRoute(peer), Requests.replaceRoute(Route.host(a("fe80::1"), eth0)),
                Requests.replaceRoute(Route.defaultVia(a("fe80::1"), eth0, false)));
        String routes = ns.ip("-6", "route", "show", "proto", "boot");
        assertTrue(routes.contains("fd00::42 dev eth0 metric 1024"), routes);
        assertTrue(routes.contains("default via fe80::1 dev eth0 metric 1024"), routes);
        assertEquals(NetlinkException.EEXIST,
                assertThrows(NetlinkException.class, () -> socket.execute(Requests.addRoute(peer))).errno());
        socket.execute(Requests.replaceRoute(peer));
        assertTrue(socket.routes(Requests.IPV6).stream().anyMatch(r -> r.sameKey(peer) && r.protocol() == Route.PROTO_BOOT));
        socket.execute(Requests.deleteRoute(peer));
        assertFalse(ns.ip("-6", "route", "show").contains("fd00::42"));
        assertEquals(NetlinkException.ESRCH,
                assertThrows(NetlinkException.class, () -> socket.execute(Requests.deleteRoute(peer))).errno());
    }

    @Test
    void addressesAreReplacedAndDeletedInBothFamilies() throws Exception {
        socket.execute(Requests.linkUp(eth0, null));
        socket.execute(Requests.replaceAddress(a("10.1.2.3"), 32, eth0, false),
                Requests.replaceAddress(a("fd00::3"), 128, eth0, true),
                Requests.replaceAddress(a("fd00::3"), 128, eth0, true));
        String v4 = ns.ip("-4", "address", "show", "dev", "eth0");
        String v6 = ns.ip("-6", "address", "show", "dev", "eth0");
        assertTrue(v4.contains("inet 10.1.2.3/32 scope global eth0"), v4);
        assertTrue(v6.contains("inet6 fd00::3/128 scope global nodad"), v6);
        assertFalse(v6.contains("fd00::3/128 scope global nodad tentative"), v6);
        assertTrue(ns.ip("-6", "route", "show", "table", "local").contains("local fd00::3 dev eth0"));
        List<Address> dumped = socket.addresses(0);
        assertTrue(dumped.stream().anyMatch(x -> x.address().equals(InetAddressOf("10.1.2.3")) && x.index() == eth0));
        assertTrue(dumped.stream().anyMatch(x -> x.isIpv6() && x.prefix() == 128 && x.index() == eth0));

        socket.execute(Requests.deleteAddress(a("10.1.2.3"), 32, eth0), Requests.deleteAddress(a("fd00::3"), 128, eth0));
        assertFalse(ns.ip("address", "show", "dev", "eth0").contains("10.1.2.3"));
        assertFalse(ns.ip("address", "show", "dev", "eth0").contains("fd00::3"));
        NetlinkException absent = assertThrows(NetlinkException.class,
                () -> socket.execute(Requests.deleteAddress(a("10.1.2.3"), 32, eth0)));
        assertEquals(NetlinkException.EADDRNOTAVAIL, absent.errno());
        assertTrue(absent.getMessage().contains("no such address"), absent.getMessage());
    }

    @Test
    void aMissingDeviceIsNoSuchDevice() throws Exception {
        NetlinkException byName = assertThrows(NetlinkException.class, () -> socket.link("nothere0"));
        assertEquals(NetlinkException.ENODEV, byName.errno());
        assertTrue(byName.getMessage().contains("no such device"), byName.getMessage());
        NetlinkException byIndex = assertThrows(NetlinkException.class,
                () -> socket.execute(Requests.replaceRoute(Route.host(a("10.9.9.9"), 99999))));
        assertEquals(NetlinkException.ENODEV, byIndex.errno());
        assertTrue(byIndex.getMessage().startsWith("netlink route replace 10.9.9.9/32 dev #99999 scope link failed: no such device"), byIndex.getMessage());
    }

    @Test
    void everyRequestOfABatchIsAppliedAndTheFirstFailureReported() throws Exception {
        socket.execute(Requests.linkUp(eth0, null));
        NetlinkException e = assertThrows(NetlinkException.class, () -> socket.execute(
                Requests.replaceRoute(Route.host(a("10.7.0.1"), eth0)),
                Requests.deleteRoute(Route.host(a("10.7.0.99"), eth0)),
                Requests.replaceRoute(Route.host(a("10.7.0.2"), eth0))));
        assertEquals(NetlinkException.ESRCH, e.errno());
        String routes = ns.ip("route", "show");
        assertTrue(routes.contains("10.7.0.1 ") && routes.contains("10.7.0.2 "), routes);
        // the socket is in step afterwards: the next request gets its own answer
        socket.execute(Requests.deleteRoute(Route.host(a("10.7.0.1"), eth0)));
    }

    @Test
    void changesSentTogetherAreAnsweredOnce() throws Exception {
        socket.execute(Requests.linkUp(eth0, null));
        long before = socket.receives();
        socket.execute(Requests.replaceRoute(Route.host(a("10.7.1.1"), eth0)),
                Requests.replaceRoute(Route.host(a("fd00:7::1"), eth0)),
                Requests.replaceRoute(Route.host(a("10.7.1.2"), eth0)),
                Requests.deleteRoute(Route.host(a("10.7.1.2"), eth0)));
        assertEquals(1, socket.receives() - before, "one acknowledgement for four changes");
        String v4 = ns.ip("route", "show");
        assertTrue(v4.contains("10.7.1.1 ") && !v4.contains("10.7.1.2 "), v4);
        assertTrue(ns.ip("-6", "route", "show").contains("fd00:7::1 "), ns.ip("-6", "route", "show"));
    }

    @Test
    void theFirstOfTwoFailuresIsReportedAndToleratedOnesAreNone() throws Exception {
        socket.execute(Requests.linkUp(eth0, null));
        NetlinkException e = assertThrows(NetlinkException.class, () -> socket.execute(
                Requests.deleteRoute(Route.host(a("10.7.2.98"), eth0)).tolerating(NetlinkException.ESRCH),
                Requests.replaceRoute(Route.host(a("10.7.2.1"), 99999)),
                Requests.deleteRoute(Route.host(a("10.7.2.99"), eth0)),
                Requests.replaceRoute(Route.host(a("10.7.2.2"), eth0))));
        assertEquals(NetlinkException.ENODEV, e.errno(), e.getMessage());
        assertTrue(e.getMessage().contains("10.7.2.1/32"), e.getMessage());
        assertTrue(ns.ip("route", "show").contains("10.7.2.2 "), ns.ip("route", "show"));
        // a failing last change is reported as well, and the socket stays in step
        NetlinkException last = assertThrows(NetlinkException.class, () -> socket.execute(
                Requests.replaceRoute(Route.host(a("10.7.2.3"), eth0)),
                Requests.deleteRoute(Route.host(a("10.7.2.97"), eth0))));
        assertEquals(NetlinkException.ESRCH, last.errno());
        socket.execute(Requests.deleteRoute(Route.host(a("10.7.2.3"), eth0)),
                Requests.deleteRoute(Route.host(a("10.7.2.2"), eth0)));
        assertFalse(ns.ip("route", "show").contains("10.7.2."), ns.ip("route", "show"));
    }

    private static InetAddress InetAddressOf(String s) {
        try {
            return InetAddress.getByName(s);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
