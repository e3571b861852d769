package dev.intervirt.agent.host;

import dev.intervirt.agent.host.ContainerNetns.Peer;
import dev.intervirt.agent.value.HostAddresses;
import dev.intervirt.agent.value.MacAddress;
import dev.intervirt.agent.value.Protocol;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static dev.intervirt.agent.support.TestAddresses.ipv4;
import static dev.intervirt.agent.support.TestAddresses.ipv6;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * NftFirewall, NsenterNetns and IpHostRoutes on the real kernel, without libvirt, proven with
 * real packets sent from inside network namespaces.
 *
 * <p>The "guest" itself is a network namespace of its own ({@code ivt9-<pid>-host}): it holds the
 * test bridge with the gateway addresses 169.254.0.1/32 and fe80::1/64, the nft tables, the
 * host routes, its sysctls and its "services" (TCP listeners on all addresses). Four
 * "containers" (namespaces with {@code eth0} on a veth whose other end is a port of that
 * bridge), an "internet" and a "client" namespace hang off it. Nothing of the machine's own
 * network namespace is touched: no global sysctl, no table, no route, no address. That matters
 * on a shared machine: the agent (and other tests) put 169.254.0.1 on bridges of their own,
 * and a concurrently running suite in the same namespace broke IPv4 here. The commands are
 * exactly the production ones, run through {@code nsenter --net=…}.
 *
 * <p>Every container has on-link routes to every other one from the start, and the outside
 * namespaces route everything back through the guest, so a failing probe always means "the
 * firewall stopped it", never "no route". The only addresses used are inside these namespaces
 * (198.18.0.0/15 and 2001:2::/48 are benchmarking ranges).
 *
 * <p>{@link NftBrNetfilterIT} runs the same suite with br_netfilter armed.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class NftFirewallIT {

    /** The agent port this instance protects (a listener on it must stay unreachable). */
    static final int AGENT_PORT = 47199;
    static final int HOST_SERVICE_PORT = 47190;
    static final int FWD_TCP = 47180;
    static final int FWD_UDP = 47181;

    /** Distinguishes the names of this suite from those of a subclass. */
    String id() {
        return "9";
    }

    /**
     * The value of net.bridge.bridge-nf-call-ip(6)tables in the guest namespace. br_netfilter is
     * loaded on these machines and defaults to 1 in every namespace: bridged IPv4/IPv6 frames then
     * also traverse the inet forward hook with iif = oif = the bridge, where "drop routed
     * bridge->bridge traffic" would kill every container conversation (network-model.md, traps).
     * This suite runs the model libvirt recommends for bridges, 0: bridged traffic is filtered at
     * layer 2 only. (NftFirewall copes with 1 as well, see BRIDGED_MARK; NftBrNetfilterIT.)
     */
    boolean brNetfilter() {
        return false;
    }

    /**
     * How the firewall reaches the guest's tables: set elements as the agent sends them (nfnetlink
     * messages, from a socket opened in the guest), the rest as nft scripts. {@link NftBrNetfilterIT}
     * sends everything as nft text, so both forms of every element change meet real packets.
     */
    NftExecutor executor() {
        return NftExecutor.inNamespace(Path.of("/run/netns", guest), inGuest);
    }

    /**
     * Namespace names are the only names this suite shares with the machine (interfaces, routes
     * and tables live inside the guest namespace): they carry the JVM's pid, so two runs at the
     * same time (two engineers, or a CI and a developer) never meet, and leftovers of a run whose
     * JVM is gone are recognised and removed.
     */
    final String nsPrefix = "ivt" + id() + "-" + ProcessHandle.current().pid() + "-";
    final String guest = nsPrefix + "host";
    final String bridge = "ivtbr" + id();
    final String table = id().equals("9") ? "ivtest" : "ivtest" + id();
    final String inetNs = nsPrefix + "inet";
    final String clientNs = nsPrefix + "cl";
    /** A namespace with nothing but lo, to see a real failure of ip. */
    final String emptyNs = nsPrefix + "e";
    final List<String> inGuest = List.of("nsenter", "--net=/run/netns/" + guest, "--");

    /** One fake container: namespace ivtN-X, host-side port ivtNX. */
    record Box(String ns, String port, MacAddress mac, Inet4Address v4, Inet6Address v6) {
        HostAddresses addresses() {
            return new HostAddresses(mac, v4, v6);
        }

        Peer peer() {
            return new Peer(v4, v6);
        }

        String ip4() {
            return v4.getHostAddress();
        }

        String ip6() {
            return v6.getHostAddress();
        }
    }

    final Box A = box("a", "02:49:56:00:00:0a", "10.0.0.5", "fd00:a::5");
    final Box B = box("b", "02:49:56:00:00:0b", "172.16.5.5", "fd00:b::5");
    final Box C = box("c", "02:49:56:00:00:0c", "192.168.7.12", "fd00:c::12");
    /** Same IPv4 subnet as A: being neighbours by address means nothing. */
    final Box D = box("d", "02:49:56:00:00:0d", "10.0.0.6", "fd00:a::6");
    final List<Box> boxes = List.of(A, B, C, D);
    /** A port with the agent's prefix that is never registered (see aPortNobodyRegisteredIsClosed). */
    final Box X = box("x", "02:49:56:00:00:1e", "10.0.0.30", "fd00:a::30");

    /** Like production: every container port name starts with the agent's port prefix. */
    final String portPrefix = "ivt" + id();
    final NftFirewall firewall = new NftFirewall(table, bridge, portPrefix, AGENT_PORT, executor());
    final NsenterNetns netns = new NsenterNetns();
    final IpHostRoutes routes = new IpHostRoutes(bridge, inGuest);
    final java.util.Map<Box, Integer> pids = new java.util.HashMap<>();
    int emptyPid;
    final List<Process> started = new CopyOnWriteArrayList<>();
    final ExecutorService pool = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "probe");
        t.setDaemon(true);
        return t;
    });

    // =====================================================================================
    // topology

    @BeforeAll
    void setUp() throws Exception {
        assertEquals("0", run("id", "-u").strip(), "needs root (real kernel, network namespaces)");
        removeLeftoversOfDeadRuns();

        run("ip", "netns", "add", guest);
        guest("ip", "link", "set", "lo", "up");
        boolean hasBrNetfilter = exec(10, null, concat(inGuest, "test", "-e", "/proc/sys/net/bridge/bridge-nf-call-iptables")).ok();
        if (brNetfilter()) {
            org.junit.jupiter.api.Assumptions.assumeTrue(hasBrNetfilter, "br_netfilter is not loaded: no trap to test");
        }
        if (hasBrNetfilter) {
            String v = brNetfilter() ? "1" : "0";
            guest("sysctl", "-q", "-w", "net.bridge.bridge-nf-call-iptables=" + v, "net.bridge.bridge-nf-call-ip6tables=" + v);
        }
        guest("sysctl", "-q", "-w", "net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1");

        // the agent's bridge: no STP, link-local gateway addresses
        guest("ip", "link", "add", bridge, "type", "bridge", "stp_state", "0", "forward_delay", "0");
        guest("ip", "addr", "add", "169.254.0.1/32", "dev", bridge);
        guest("ip", "addr", "add", "fe80::1/64", "dev", bridge, "nodad");
        guest("ip", "link", "set", bridge, "up");
        firewall.install();
        // route_localnet on the bridge only: 127/8 stays unroutable on every other interface
        assertEquals("1", guest("sysctl", "-n", "net.ipv4.conf." + bridge + ".route_localnet").strip());
        assertEquals("0", guest("sysctl", "-n", "net.ipv4.conf.all.route_localnet").strip());

        // "internet" and "client": plain routed neighbours of the guest; both route everything
        // back through the guest, so only the firewall decides, never a missing route
        outsideNamespace(inetNs, "ivt" + id() + "i", "198.18.0.1/24", "198.18.0.2/24", "2001:2::1/64", "2001:2::2/64");
        outsideNamespace(clientNs, "ivt" + id() + "k", "198.19.0.1/24", "198.19.0.2/24", "2001:2:0:1::1/64", "2001:2:0:1::2/64");
        run("ip", "netns", "add", emptyNs);
        emptyPid = sleeper(emptyNs);

        for (Box b : boxes) {
            run("ip", "netns", "add", b.ns());
            guest("ip", "link", "add", b.port(), "type", "veth", "peer", "name", "eth0", "netns", b.ns());
            guest("ip", "link", "set", b.port(), "master", bridge, "up");
            run("ip", "-n", b.ns(), "link", "set", "lo", "up");
            pids.put(b, sleeper(b.ns()));
            firewall.addPort(b.port(), b.mac(), b.v4(), b.v6());
            routes.add(b.v4());
            routes.add(b.v6());
            netns.configure(pids.get(b), b.addresses(), List.of(), false);
        }
        for (Box b : boxes) {
            for (Box other : boxes) {
                if (other != b) {
                    netns.addPeer(pids.get(b), other.peer());
                }
            }
        }

        // listeners: socat puts the peer/local addresses into the environment of EXEC'd programs
        for (Box b : boxes) {
            String name = b.ns().substring(b.ns().length() - 1);
            serve(b.ns(), "TCP6-LISTEN:7000,ipv6only=0,reuseaddr,fork", "EXEC:echo tcp-" + name);
            serve(b.ns(), "TCP4-LISTEN:7001,reuseaddr,fork", "EXEC:cat");
            serve(b.ns(), "TCP4-LISTEN:8080,reuseaddr,fork", "EXEC:printenv SOCAT_SOCKADDR SOCAT_PEERADDR");
            // UDP echo bound to the box's own address (EXEC of a program that ignores its input races
            // with socat writing the datagram to it: flaky under load)
            serve(b.ns(), "UDP4-RECVFROM:8081,bind=" + b.ip4() + ",fork", "PIPE");
        }
        serve(inetNs, "TCP4-LISTEN:7000,reuseaddr,fork", "EXEC:printenv SOCAT_PEERADDR");
        serve(inetNs, "TCP4-LISTEN:7001,reuseaddr,fork", "EXEC:cat");
        serve(inetNs, "TCP6-LISTEN:7002,ipv6only=1,reuseaddr,fork", "EXEC:printenv SOCAT_PEERADDR");
        // the guest's own services, on every address (the agent port among them)
        for (int port : List.of(HOST_SERVICE_PORT, AGENT_PORT)) {
            serve(guest, "TCP6-LISTEN:" + port + ",ipv6only=0,reuseaddr,fork", "EXEC:echo host-" + port);
        }
        for (Box b : boxes) {
            waitListening(b.ns(), "-ltn", 7000);
            waitListening(b.ns(), "-ltn", 7001);
            waitListening(b.ns(), "-ltn", 8080);
            waitListening(b.ns(), "-lun", 8081);
        }
        for (int port : List.of(7000, 7001, 7002)) {
            waitListening(inetNs, "-ltn", port);
        }
        waitListening(guest, "-ltn", HOST_SERVICE_PORT);
        waitListening(guest, "-ltn", AGENT_PORT);
    }

    @AfterEach
    void resetElements() {
        // every test starts from: ports registered, no links, no internet, no forwards,
        // the configured netns state (mesh of peer routes, no default route)
        firewall.flushElements();
        for (Box b : boxes) {
            firewall.addPort(b.port(), b.mac(), b.v4(), b.v6());
            List<Peer> peers = boxes.stream().filter(o -> o != b).map(Box::peer).toList();
            netns.configure(pids.get(b), b.addresses(), peers, false);
        }
    }

    @AfterAll
    void tearDown() throws Exception {
        for (Process p : started) {
            p.destroy();
        }
        for (Process p : started) {
            if (!p.waitFor(2, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
        }
        pool.shutdownNow();
        firewall.close();
        cleanUp();
    }

    /**
     * Removes everything this run created (tolerant of absence): its namespaces. The guest
     * namespace takes its bridge, veths, routes and nft tables with it.
     */
    void cleanUp() {
        List<String> namespaces = new ArrayList<>(boxes.stream().map(Box::ns).toList());
        namespaces.addAll(List.of(X.ns(), inetNs, clientNs, emptyNs, guest));
        namespaces.forEach(NftFirewallIT::removeNamespace);
    }

    /** Namespaces of this suite left by runs whose JVM is gone (killed, crashed, interrupted). */
    void removeLeftoversOfDeadRuns() throws IOException {
        java.util.regex.Pattern mine = java.util.regex.Pattern.compile("ivt" + id() + "-(\\d+)-[a-z]+");
        Path dir = Path.of("/run/netns");
        if (!Files.isDirectory(dir)) {
            return;
        }
        try (var entries = Files.list(dir)) {
            for (Path p : entries.toList()) {
                var m = mine.matcher(p.getFileName().toString());
                if (m.matches() && ProcessHandle.of(Long.parseLong(m.group(1))).map(h -> !h.isAlive()).orElse(true)) {
                    removeNamespace(p.getFileName().toString());
                }
            }
        }
    }

    static void removeNamespace(String ns) {
        if (Files.exists(Path.of("/run/netns", ns))) {
            // processes still in OUR namespace (sleepers, socat of a run that died)
            for (String pid : exec(10, null, List.of("ip", "netns", "pids", ns)).stdout().split("\\s+")) {
                if (!pid.isBlank()) {
                    ProcessHandle.of(Long.parseLong(pid)).ifPresent(ProcessHandle::destroyForcibly);
                }
            }
            exec(10, null, List.of("ip", "netns", "del", ns));
        }
        assertFalse(Files.exists(Path.of("/run/netns", ns)), "cannot remove namespace " + ns);
    }

    void outsideNamespace(String ns, String link, String hostV4, String nsV4, String hostV6, String nsV6) {
        run("ip", "netns", "add", ns);
        guest("ip", "link", "add", link, "type", "veth", "peer", "name", "eth0", "netns", ns);
        guest("ip", "addr", "add", hostV4, "dev", link);
        guest("ip", "addr", "add", hostV6, "dev", link, "nodad");
        guest("ip", "link", "set", link, "up");
        run("ip", "-n", ns, "addr", "add", nsV4, "dev", "eth0");
        run("ip", "-n", ns, "addr", "add", nsV6, "dev", "eth0", "nodad");
        run("ip", "-n", ns, "link", "set", "eth0", "up");
        run("ip", "-n", ns, "link", "set", "lo", "up");
        run("ip", "-n", ns, "route", "add", "default", "via", hostV4.substring(0, hostV4.indexOf('/')));
        run("ip", "-n", ns, "-6", "route", "add", "default", "via", hostV6.substring(0, hostV6.indexOf('/')));
    }

    int sleeper(String ns) throws Exception {
        Process p = new ProcessBuilder("ip", "netns", "exec", ns, "sleep", "infinity")
                .redirectErrorStream(true).start();
        started.add(p);
        Path own = Files.readSymbolicLink(Path.of("/proc/self/ns/net"));
        for (int i = 0; i < 200; i++) {
            try {
                if (!Files.readSymbolicLink(Path.of("/proc", Long.toString(p.pid()), "ns", "net")).equals(own)) {
                    return (int) p.pid();
                }
            } catch (IOException e) {
                // not there yet
            }
            Thread.sleep(10);
        }
        throw new AssertionError("sleeper in " + ns + " did not enter its namespace");
    }

    void serve(String ns, String listen, String action) throws IOException {
        Process p = new ProcessBuilder("ip", "netns", "exec", ns, "socat", listen, action)
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        started.add(p);
    }

    void waitListening(String ns, String flags, int port) throws Exception {
        for (int i = 0; i < 300; i++) {
            String out = exec(10, null, in(ns, "ss", "-H", flags, "sport", "= :" + port)).stdout();
            if (!out.isBlank()) {
                return;
            }
            Thread.sleep(10);
        }
        throw new AssertionError("nothing listens on " + port + " in " + ns);
    }

    // =====================================================================================
    // probes: commands run inside a namespace; several run in parallel

    record Probe(String label, List<String> command, String stdin, String expect) {
        boolean succeeds() {
            ProcessRunner.Result r = exec(15, stdin, command.toArray(String[]::new));
            return r.ok() && r.stdout().contains(expect);
        }
    }

    static Probe ping(Box from, String to) {
        return ping(from.ns(), to);
    }

    static Probe ping(String ns, String to) {
        return new Probe(ns + " ping " + to, in(ns, "ping", "-n", "-c1", "-W2", to), null, "1 received");
    }

    static Probe tcp(String ns, String host, int port, String expect) {
        String addr = host.contains(":") ? "TCP6:[" + host + "]:" + port : "TCP4:" + host + ":" + port;
        return new Probe(ns + " tcp " + host + ":" + port, in(ns, "socat", "-T3", "-t3", "-", addr + ",connect-timeout=2"), "", expect);
    }

    /** A datagram to an echo server: success = the payload comes back. */
    static Probe udp(String ns, String host, int port) {
        String payload = "udp-probe-" + ns + "-" + port;
        return new Probe(ns + " udp " + host + ":" + port, in(ns, "socat", "-T3", "-t2", "-", "UDP4:" + host + ":" + port),
                payload + "\n", payload);
    }

    void reachable(Probe... probes) {
        check(true, probes);
    }

    void unreachable(Probe... probes) {
        check(false, probes);
    }

    void check(boolean expected, Probe... probes) {
        List<CompletableFuture<Boolean>> results = Arrays.stream(probes)
                .map(p -> CompletableFuture.supplyAsync(p::succeeds, pool)).toList();
        List<String> wrong = new ArrayList<>();
        for (int i = 0; i < probes.length; i++) {
            if (results.get(i).join() != expected) {
                wrong.add(probes[i].label());
            }
        }
        if (!wrong.isEmpty()) {
            fail((expected ? "expected to get through but did not: " : "expected to be stopped but got through: ") + wrong);
        }
    }

    // =====================================================================================
    // the behaviour

    @Test
    @Order(1)
    void nothingPassesWithoutALink() {
        unreachable(
                ping(A, B.ip4()), ping(A, B.ip6()), ping(B, C.ip4()), ping(C, A.ip6()),
                ping(A, D.ip4()), ping(D, A.ip4()), ping(A, D.ip6()),
                tcp(A.ns(), B.ip4(), 7000, "tcp-b"), tcp(A.ns(), D.ip6(), 7000, "tcp-d"));
    }

    @Test
    @Order(2)
    void linkedPairsReachEachOtherOverIpv4AndIpv6AcrossSubnets() {
        firewall.link(A.port(), B.port());
        firewall.link(A.port(), B.port()); // idempotent
        firewall.link(B.port(), A.port());
        reachable(
                ping(A, B.ip4()), ping(A, B.ip6()), ping(B, A.ip4()), ping(B, A.ip6()),
                tcp(A.ns(), B.ip4(), 7000, "tcp-b"), tcp(A.ns(), B.ip6(), 7000, "tcp-b"),
                tcp(B.ns(), A.ip4(), 7000, "tcp-a"), tcp(B.ns(), A.ip6(), 7000, "tcp-a"),
                udp(B.ns(), A.ip4(), 8081));
        unreachable(ping(A, C.ip4()), ping(C, B.ip4()), ping(D, A.ip4()), ping(A, D.ip6()));

        firewall.link(C.port(), D.port());
        reachable(ping(C, D.ip4()), ping(D, C.ip6()), tcp(D.ns(), C.ip4(), 7000, "tcp-c"));
    }

    @Test
    @Order(3)
    void linkingIsNotTransitive() {
        firewall.link(A.port(), B.port());
        firewall.link(B.port(), C.port());
        reachable(ping(A, B.ip4()), ping(B, C.ip4()), ping(C, B.ip6()), ping(B, A.ip6()));
        unreachable(ping(A, C.ip4()), ping(A, C.ip6()), ping(C, A.ip4()), ping(C, A.ip6()),
                tcp(A.ns(), C.ip4(), 7000, "tcp-c"));
    }

    @Test
    @Order(4)
    void unlinkCutsAtOnceEvenEstablishedConnections() throws Exception {
        firewall.link(A.port(), B.port());
        reachable(ping(A, B.ip4()), ping(A, B.ip6()));
        try (Session s = new Session(A.ns(), "TCP4:" + B.ip4() + ":7001")) {
            assertEquals("one", s.roundTrip("one"));
            firewall.unlink(A.port(), B.port());
            assertNull(s.roundTrip("two"), "an established connection went on after unlink");
        }
        firewall.unlink(A.port(), B.port());
        unreachable(ping(A, B.ip4()), ping(A, B.ip6()), ping(B, A.ip4()));
        firewall.unlink(A.port(), B.port()); // absent: no error
        firewall.unlink(C.port(), D.port()); // never linked: no error
        firewall.link(A.port(), B.port());
        reachable(ping(A, B.ip4()));
    }

    @Test
    @Order(5)
    void aContainerTakingAnotherOnesAddressGetsNothingThrough() throws Exception {
        firewall.link(A.port(), D.port());
        reachable(ping(D, A.ip4()), ping(D, A.ip6()), tcp(D.ns(), A.ip4(), 7000, "tcp-a"));

        // D (linked to A) takes B's IPv4 (B is not linked to A; A has its on-link route to B).
        // Without anti-spoofing D's SYN and its ARP answer for B's address would reach A and
        // the connection would succeed.
        run(in(D.ns(), "ip", "addr", "add", B.ip4() + "/32", "dev", "eth0"));
        unreachable(
                new Probe("D as B ping A", in(D.ns(), "ping", "-n", "-c1", "-W2", "-I", B.ip4(), A.ip4()), null, "1 received"),
                new Probe("D as B tcp A", in(D.ns(), "socat", "-T3", "-t3", "-",
                        "TCP4:" + A.ip4() + ":7000,bind=" + B.ip4() + ",connect-timeout=2"), "", "tcp-a"));
        run(in(D.ns(), "ip", "addr", "del", B.ip4() + "/32", "dev", "eth0"));

        // the same with an address nobody has, to which A has a route
        netns.addPeer(pids.get(A), new Peer(ipv4("10.0.0.99"), ipv6("fd00:a::99")));
        run(in(D.ns(), "ip", "addr", "add", "10.0.0.99/32", "dev", "eth0"));
        run(in(D.ns(), "ip", "addr", "add", "fd00:a::99/128", "dev", "eth0", "nodad"));
        unreachable(
                new Probe("D as 10.0.0.99", in(D.ns(), "ping", "-n", "-c1", "-W2", "-I", "10.0.0.99", A.ip4()), null, "1 received"),
                new Probe("D as fd00:a::99", in(D.ns(), "ping", "-n", "-c1", "-W2", "-I", "fd00:a::99", A.ip6()), null, "1 received"));
        // even when no address resolution is needed (static neighbours on both sides, as a
        // poisoned cache would give): the IP source check alone stops it
        run(in(A.ns(), "ip", "neigh", "replace", "10.0.0.99", "lladdr", D.mac().canonical(), "dev", "eth0", "nud", "permanent"));
        run(in(D.ns(), "ip", "neigh", "replace", A.ip4(), "lladdr", A.mac().canonical(), "dev", "eth0", "nud", "permanent"));
        unreachable(new Probe("D as 10.0.0.99, static neighbours",
                in(D.ns(), "ping", "-n", "-c1", "-W2", "-I", "10.0.0.99", A.ip4()), null, "1 received"));
        run(in(A.ns(), "ip", "neigh", "del", "10.0.0.99", "dev", "eth0"));
        run(in(D.ns(), "ip", "neigh", "del", A.ip4(), "dev", "eth0"));

        // ARP poisoning: D answers A's ARP request for an address A has a route to (B's, B not
        // linked to A). A's neighbour entry must never point at D.
        run(in(D.ns(), "ip", "addr", "add", B.ip4() + "/32", "dev", "eth0"));
        exec(10, null, in(A.ns(), "ping", "-n", "-c1", "-W1", B.ip4()).toArray(String[]::new));
        String neigh = run(in(A.ns(), "ip", "neigh", "show", B.ip4(), "dev", "eth0"));
        assertFalse(neigh.contains(D.mac().canonical()), "A's ARP cache poisoned by D: " + neigh);
        run(in(D.ns(), "ip", "addr", "del", B.ip4() + "/32", "dev", "eth0"));

        // the configuration puts D back to exactly its addresses
        netns.configure(pids.get(D), D.addresses(), List.of(A.peer()), false);
        String addrs = run(in(D.ns(), "ip", "-o", "addr", "show", "dev", "eth0"));
        assertFalse(addrs.contains("10.0.0.99") || addrs.contains("fd00:a::99"), addrs);
        reachable(ping(D, A.ip4()), ping(D, A.ip6()));

        // D takes B's MAC (and then a MAC nobody has): nothing passes, its own MAC works again
        for (String mac : List.of(B.mac().canonical(), "02:49:56:00:00:99")) {
            run(in(D.ns(), "ip", "link", "set", "dev", "eth0", "address", mac));
            run(in(D.ns(), "ip", "neigh", "flush", "dev", "eth0"));
            run(in(A.ns(), "ip", "neigh", "flush", "dev", "eth0"));
            unreachable(ping(D, A.ip4()), ping(D, A.ip6()));
        }
        netns.configure(pids.get(D), D.addresses(), List.of(A.peer()), false);
        reachable(ping(D, A.ip4()), ping(D, A.ip6()));

        // D, unlinked from A, as B entirely (MAC and addresses) while B is linked to A: links
        // are by port, addresses are not an identity
        firewall.unlink(A.port(), D.port());
        firewall.link(A.port(), B.port());
        run(in(B.ns(), "ip", "link", "set", "dev", "eth0", "down")); // the real B is silent
        netns.configure(pids.get(D), B.addresses(), List.of(A.peer()), false);
        unreachable(ping(D, A.ip4()), ping(D, A.ip6()));
        netns.configure(pids.get(D), D.addresses(), List.of(), false);
        // (resetElements reconfigures B, which brings its eth0 up again)
    }

    @Test
    @Order(6)
    void routingThroughTheGatewayDoesNotBypassTheLinks() throws Exception {
        // A (no internet) routes C's addresses via the gateway itself
        netns.removePeer(pids.get(A), C.peer());
        run(in(A.ns(), "ip", "route", "replace", C.ip4() + "/32", "via", "169.254.0.1", "dev", "eth0", "onlink"));
        run(in(A.ns(), "ip", "-6", "route", "replace", C.ip6() + "/128", "via", "fe80::1", "dev", "eth0"));
        unreachable(ping(A, C.ip4()), ping(A, C.ip6()), tcp(A.ns(), C.ip4(), 7000, "tcp-c"));

        // both with internet access and default routes, still unlinked
        for (Box b : List.of(A, C)) {
            firewall.setInternet(b.v4(), b.v6(), true);
            netns.setInternet(pids.get(b), true);
            netns.removePeer(pids.get(b), (b == A ? C : A).peer());
        }
        reachable(ping(A, "198.18.0.2"), ping(C, "2001:2::2")); // the gateway works
        unreachable(ping(A, C.ip4()), ping(A, C.ip6()), ping(C, A.ip4()), ping(C, A.ip6()),
                tcp(C.ns(), A.ip4(), 7000, "tcp-a"));
    }

    @Test
    @Order(7)
    void containersReachNoServiceOfTheGuest() {
        // control: the listeners are there, from a non-container namespace
        reachable(tcp(clientNs, "198.19.0.1", HOST_SERVICE_PORT, "host-" + HOST_SERVICE_PORT),
                tcp(clientNs, "198.19.0.1", AGENT_PORT, "host-" + AGENT_PORT));
        firewall.setInternet(A.v4(), A.v6(), true);
        netns.setInternet(pids.get(A), true);
        List<Probe> probes = new ArrayList<>();
        for (int port : List.of(HOST_SERVICE_PORT, AGENT_PORT)) {
            String expect = "host-" + port;
            probes.add(tcp(A.ns(), "169.254.0.1", port, expect));
            probes.add(tcp(A.ns(), "198.18.0.1", port, expect));
            probes.add(tcp(A.ns(), "198.19.0.1", port, expect));
            probes.add(tcp(A.ns(), "2001:2::1", port, expect));
            probes.add(tcp(B.ns(), "169.254.0.1", port, expect));
            probes.add(new Probe("A fe80::1%eth0:" + port,
                    in(A.ns(), "socat", "-T3", "-t3", "-", "TCP6:[fe80::1%eth0]:" + port + ",connect-timeout=2"), "", expect));
        }
        probes.add(ping(A, "169.254.0.1"));
        probes.add(ping(A, "198.19.0.1"));
        unreachable(probes.toArray(Probe[]::new));
        reachable(ping(A, "198.18.0.2")); // while its internet access works
    }

    @Test
    @Order(8)
    void internetOnlyWhileEnabled() throws Exception {
        // off: no default route at all
        assertEquals("", run(in(A.ns(), "ip", "route", "show", "default")).strip());
        assertEquals("", run(in(A.ns(), "ip", "-6", "route", "show", "default")).strip());
        ProcessRunner.Result r = exec(10, null, in(A.ns(), "ping", "-n", "-c1", "-W1", "198.18.0.2").toArray(String[]::new));
        assertFalse(r.ok());
        assertTrue((r.stdout() + r.stderr()).contains("Network is unreachable"), r.stdout() + r.stderr());
        // on-link gateway routes stay
        assertTrue(run(in(A.ns(), "ip", "route", "show", "169.254.0.1")).contains("dev eth0"));
        assertTrue(run(in(A.ns(), "ip", "-6", "route", "show", "fe80::1")).contains("dev eth0"));

        // a container that adds default routes itself gets nothing out either: not even one-way
        // (a UDP sink on the "internet" side records what arrives)
        netns.setInternet(pids.get(A), true);
        Sink sink4 = sink("UDP4-RECV:7003");
        Sink sink6 = sink("UDP6-RECV:7004");
        unreachable(ping(A, "198.18.0.2"), ping(A, "2001:2::2"), tcp(A.ns(), "198.18.0.2", 7000, "198.18.0.1"));
        datagram(A.ns(), "UDP4:198.18.0.2:7003", "leak-v4");
        datagram(A.ns(), "UDP6:[2001:2::2]:7004", "leak-v6");

        firewall.setInternet(A.v4(), A.v6(), true);
        firewall.setInternet(A.v4(), A.v6(), true); // idempotent
        reachable(ping(A, "198.18.0.2"), ping(A, "2001:2::2"),
                tcp(A.ns(), "198.18.0.2", 7000, "198.18.0.1"), // masqueraded to the uplink address
                tcp(A.ns(), "2001:2::2", 7002, "[2001:0002:0000:0000:0000:0000:0000:0001]"), // socat's spelling
                ping(A, "198.19.0.2"));
        datagram(A.ns(), "UDP4:198.18.0.2:7003", "sent-v4");
        datagram(A.ns(), "UDP6:[2001:2::2]:7004", "sent-v6");
        String got4 = drain(sink4);
        String got6 = drain(sink6);
        assertTrue(got4.contains("sent-v4") && got6.contains("sent-v6"), "controls: " + got4 + " / " + got6);
        assertFalse(got4.contains("leak") || got6.contains("leak"), "left the guest without access: " + got4 + got6);
        unreachable(ping(B, "198.18.0.2"), ping(B, "2001:2::2"), // only A
                // and nothing comes in that A did not start, though the outside routes to A
                ping(inetNs, A.ip4()), ping(inetNs, A.ip6()), tcp(inetNs, A.ip4(), 7000, "tcp-a"),
                tcp(inetNs, A.ip6(), 7000, "tcp-a"), tcp(clientNs, A.ip4(), 7000, "tcp-a"));

        // an established connection is cut the moment access is revoked
        try (Session s = new Session(A.ns(), "TCP4:198.18.0.2:7001")) {
            assertEquals("one", s.roundTrip("one"));
            firewall.setInternet(A.v4(), A.v6(), false);
            assertNull(s.roundTrip("two"), "an established flow went on after revocation");
        }
        unreachable(ping(A, "198.18.0.2"), ping(A, "2001:2::2"));
        firewall.setInternet(A.v4(), A.v6(), false); // absent: no error
        firewall.clearInternet(A.v4(), A.v6()); // absent: no error either
        firewall.setInternet(A.v4(), A.v6(), true);
        reachable(ping(A, "198.18.0.2"), ping(A, "2001:2::2"));
        firewall.clearInternet(A.v4(), A.v6()); // there: taken as well
        unreachable(ping(A, "198.18.0.2"), ping(A, "2001:2::2"));
        netns.setInternet(pids.get(A), false);
        netns.setInternet(pids.get(A), false);
        assertEquals("", run(in(A.ns(), "ip", "route", "show", "default")).strip());
        assertEquals("", run(in(A.ns(), "ip", "-6", "route", "show", "default")).strip());
    }

    @Test
    @Order(9)
    void portForwardsReachAContainerWithoutDefaultRoute() throws Exception {
        assertEquals("", run(in(A.ns(), "ip", "route", "show", "default")).strip());
        firewall.addForward(Protocol.TCP, FWD_TCP, A.v4(), 8080);
        firewall.addForward(Protocol.TCP, FWD_TCP, A.v4(), 8080); // idempotent
        firewall.addForward(Protocol.UDP, FWD_UDP, A.v4(), 8081);
        // the container sees the gateway as the peer (SNAT), so it can answer without default route
        String seenByA = A.ip4() + "\n169.254.0.1";
        reachable(
                tcp(clientNs, "198.19.0.1", FWD_TCP, seenByA),
                udp(clientNs, "198.19.0.1", FWD_UDP),
                tcp(inetNs, "198.18.0.1", FWD_TCP, seenByA));
        // from the guest itself: its loopback (output chain + route_localnet) and its own addresses
        reachable(tcp(guest, "127.0.0.1", FWD_TCP, seenByA), tcp(guest, "198.19.0.1", FWD_TCP, seenByA),
                udp(guest, "127.0.0.1", FWD_UDP), udp(guest, "198.18.0.1", FWD_UDP));
        // never from a container, not even the target itself
        unreachable(tcp(B.ns(), "169.254.0.1", FWD_TCP, seenByA), tcp(A.ns(), "169.254.0.1", FWD_TCP, seenByA),
                udp(B.ns(), "169.254.0.1", FWD_UDP));
        // and the forward opens nothing else: the container's other ports stay closed
        unreachable(tcp(clientNs, A.ip4(), 7000, "tcp-a"), tcp(clientNs, A.ip6(), 7000, "tcp-a"), ping(clientNs, A.ip4()));

        // re-pointing a forward replaces it (one element per key)
        firewall.addForward(Protocol.TCP, FWD_TCP, B.v4(), 8080);
        reachable(tcp(clientNs, "198.19.0.1", FWD_TCP, B.ip4() + "\n169.254.0.1"));
        assertThrows(IllegalArgumentException.class, () -> firewall.addForward(Protocol.TCP, AGENT_PORT, A.v4(), 8080));
        // and even an element slipped into the map behind the class's back cannot take the agent's port
        guest("nft", "add", "element", "inet", table, "port_forwards", "{ tcp . " + AGENT_PORT + " : " + A.ip4() + " . 8080 }");
        reachable(tcp(clientNs, "198.19.0.1", AGENT_PORT, "host-" + AGENT_PORT));
        firewall.removeForward(Protocol.TCP, AGENT_PORT);

        firewall.removeForward(Protocol.TCP, FWD_TCP);
        firewall.removeForward(Protocol.TCP, FWD_TCP); // absent: no error
        firewall.removeForward(Protocol.UDP, FWD_UDP);
        unreachable(tcp(clientNs, "198.19.0.1", FWD_TCP, "169.254.0.1"), udp(clientNs, "198.19.0.1", FWD_UDP));
    }

    @Test
    @Order(10)
    void configureIsIdempotentAndExact() throws Exception {
        int pid = pids.get(A);
        List<Peer> peers = List.of(B.peer());
        netns.configure(pid, A.addresses(), peers, true);
        String addrs1 = state(A);
        // junk a DHCP client, SLAAC or a user might leave
        run(in(A.ns(), "ip", "addr", "add", "10.9.9.9/24", "dev", "eth0"));
        run(in(A.ns(), "ip", "addr", "add", "2001:db8::9/64", "dev", "eth0", "nodad"));
        run(in(A.ns(), "ip", "route", "add", "10.8.8.8/32", "dev", "eth0"));
        run(in(A.ns(), "ip", "-6", "route", "add", "fd00:dead::1/128", "dev", "eth0", "proto", "static"));
        run(in(A.ns(), "ip", "-6", "route", "add", "fd00:dead::2/128", "dev", "eth0"));
        netns.configure(pid, A.addresses(), peers, true);
        netns.configure(pid, A.addresses(), peers, true);
        assertEquals(addrs1, state(A));
        assertEquals("0", run(in(A.ns(), "sysctl", "-n", "net.ipv6.conf.eth0.accept_ra")).strip());
        assertEquals("0", run(in(A.ns(), "sysctl", "-n", "net.ipv6.conf.eth0.autoconf")).strip());
        assertEquals("0", run(in(A.ns(), "sysctl", "-n", "net.ipv6.conf.eth0.accept_dad")).strip());
        String s = addrs1;
        assertTrue(s.contains("inet 10.0.0.5/32") && s.contains("inet6 fd00:a::5/128") && s.contains("inet6 fe80::"), s);
        assertTrue(s.contains("default via 169.254.0.1 dev eth0 onlink") && s.contains("default via fe80::1 dev eth0"), s);
        assertTrue(s.contains("172.16.5.5 dev eth0") && s.contains("fd00:b::5 dev eth0"), s);
        assertFalse(s.contains("192.168.7.12") || s.contains("fd00:c::12"), s);

        netns.configure(pid, A.addresses(), List.of(), false);
        s = state(A);
        assertFalse(s.contains("default") || s.contains("172.16.5.5") || s.contains("fd00:b::5"), s);
        assertTrue(s.contains("169.254.0.1 dev eth0") && s.contains("fe80::1 dev eth0"), s);

        // address swaps keep the routes (new address first)
        netns.addPeer(pid, B.peer());
        netns.addPeer(pid, B.peer()); // idempotent
        netns.replaceIpv4(pid, A.v4(), ipv4("10.0.0.50"));
        netns.replaceIpv6(pid, A.v6(), ipv6("fd00:a::50"));
        s = state(A);
        assertTrue(s.contains("inet 10.0.0.50/32") && !s.contains("inet 10.0.0.5/32"), s);
        assertTrue(s.contains("inet6 fd00:a::50/128") && !s.contains("inet6 fd00:a::5/128"), s);
        assertTrue(s.contains("172.16.5.5 dev eth0") && s.contains("169.254.0.1 dev eth0"), s);
        netns.replaceIpv4(pid, ipv4("10.0.0.50"), A.v4());
        netns.replaceIpv6(pid, ipv6("fd00:a::50"), A.v6());
        netns.replaceIpv4(pid, ipv4("10.0.0.77"), A.v4()); // old one absent: no error
        netns.removePeer(pid, B.peer());
        netns.removePeer(pid, B.peer()); // absent: no error
        netns.replacePeer(pid, C.peer(), D.peer());
        s = state(A);
        assertTrue(s.contains("inet 10.0.0.5/32") && s.contains("inet6 fd00:a::5/128"), s);
        assertFalse(s.contains("172.16.5.5") || s.contains("192.168.7.12"), s);
        assertTrue(s.contains("10.0.0.6 dev eth0"), s);

        assertThrows(IllegalArgumentException.class, () -> netns.addPeer((int) ProcessHandle.current().pid(), B.peer()));
        // a process that is gone (a container stopped meanwhile): a code-4 error (the host is unavailable), not an internal one
        HostException gone = assertThrows(HostException.class, () -> netns.addPeer(Integer.MAX_VALUE, B.peer()));
        assertEquals(HostException.Kind.UNAVAILABLE, gone.kind());
        // a real ip failure surfaces (a namespace without eth0)
        CommandFailedException e = assertThrows(CommandFailedException.class,
                () -> netns.configure(emptyPid, A.addresses(), List.of(), false));
        assertTrue(e.getMessage().contains("eth0"), e.getMessage());
    }

    @Test
    @Order(11)
    void hostRoutesAreIdempotent() throws Exception {
        routes.add(A.v4());
        routes.add(A.v6());
        assertTrue(guest("ip", "route", "show", A.ip4() + "/32").contains("dev " + bridge));
        assertTrue(guest("ip", "-6", "route", "show", A.ip6() + "/128").contains("dev " + bridge));
        routes.remove(ipv4("10.0.0.222"));
        routes.remove(ipv6("fd00:a::222"));
        routes.add(ipv4("10.0.0.222"));
        routes.remove(ipv4("10.0.0.222"));
        routes.remove(ipv4("10.0.0.222"));
        assertEquals("", guest("ip", "route", "show", "10.0.0.222/32").strip());
        // remove only ever touches a route through the bridge
        String other = "ivt" + id() + "k";
        guest("ip", "route", "add", "10.0.0.223/32", "dev", other);
        routes.remove(ipv4("10.0.0.223"));
        assertTrue(guest("ip", "route", "show", "10.0.0.223/32").contains(other));
        guest("ip", "route", "del", "10.0.0.223/32", "dev", other);
    }

    @Test
    @Order(12)
    void installAgainKeepsElementsAndRulesOnce() {
        firewall.link(A.port(), B.port());
        firewall.setInternet(A.v4(), null, true);
        String before = guest("nft", "list", "table", "inet", table) + guest("nft", "list", "table", "bridge", table);
        firewall.install();
        firewall.install();
        String after = guest("nft", "list", "table", "inet", table) + guest("nft", "list", "table", "bridge", table);
        assertEquals(before, after);
        reachable(ping(A, B.ip4()));
        System.out.println("---- nft list table bridge " + table + " (bridge meta supported: "
                + firewall.bridgeMetaSupported() + ", br_netfilter armed: " + brNetfilter() + ")\n"
                + guest("nft", "list", "table", "bridge", table));
        System.out.println("---- nft list table inet " + table + "\n" + guest("nft", "list", "table", "inet", table));
    }

    @Test
    @Order(13)
    void aDeregisteredPortIsClosedNotOpen() {
        firewall.link(A.port(), B.port());
        reachable(ping(A, B.ip4()));
        firewall.removePort(A.port(), A.mac(), A.v4(), A.v6());
        firewall.removePort(A.port(), A.mac(), A.v4(), A.v6()); // absent: no error
        unreachable(ping(A, B.ip4()), ping(A, B.ip6()));
        firewall.addPort(A.port(), A.mac(), A.v4(), A.v6());
        reachable(ping(A, B.ip4()), ping(A, B.ip6()));
    }

    @Test
    @Order(15)
    void aPortNobodyRegisteredIsClosed() throws Exception {
        // a container whose port exists on the bridge before (or without) addPort: governed by
        // the port prefix, so nothing passes even with a link and on-link routes both ways
        run("ip", "netns", "add", X.ns());
        guest("ip", "link", "add", X.port(), "type", "veth", "peer", "name", "eth0", "netns", X.ns());
        guest("ip", "link", "set", X.port(), "master", bridge, "up");
        int pid = sleeper(X.ns());
        netns.configure(pid, X.addresses(), List.of(A.peer()), true);
        netns.addPeer(pids.get(A), X.peer());
        firewall.link(A.port(), X.port());
        unreachable(ping(X, A.ip4()), ping(X, A.ip6()), ping(A, X.ip4()), ping(A, X.ip6()),
                ping(X, "198.18.0.2"), tcp(X.ns(), "169.254.0.1", HOST_SERVICE_PORT, "host-"));
        // registered, it works: the probe above failed for the right reason
        firewall.addPort(X.port(), X.mac(), X.v4(), X.v6());
        routes.add(X.v4());
        reachable(ping(X, A.ip4()), ping(A, X.ip4()), ping(X, A.ip6()));
        firewall.removePort(X.port(), X.mac(), X.v4(), X.v6());
        routes.remove(X.v4());
        unreachable(ping(X, A.ip4()), ping(X, A.ip6()));
        removeNamespace(X.ns());
    }

    /** Counts frames on eth0 that carry one of the markers (argv[1] seconds), prints those seen. */
    static final String SNIFFER = """
            import socket, sys, time
            s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
            s.bind(("eth0", 0)); s.settimeout(0.1)
            markers = [m.encode() for m in sys.argv[2:]]; seen = set()
            print("ready", flush=True)
            end = time.time() + float(sys.argv[1])
            while time.time() < end:
                try:
                    f = s.recv(65535)
                except socket.timeout:
                    continue
                seen.update(m.decode() for m in markers if m in f)
            print(" ".join(sorted(seen)), flush=True)
            """;

    /** Raw frames from eth0: argv = dst MAC, src MAC. */
    static final String RAW_SENDER = """
            import socket, sys
            dst = bytes.fromhex(sys.argv[1].replace(":", "")); src = bytes.fromhex(sys.argv[2].replace(":", ""))
            s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW); s.bind(("eth0", 0))
            pad = bytes(40)
            # 802.1Q-tagged frame (its inner IPv4 would never meet the ip saddr check)
            s.send(dst + src + b"\\x81\\x00\\x00\\x05\\x08\\x00" + b"ivt-vlan" + pad)
            # an ethertype that is neither ARP nor IP
            s.send(dst + src + b"\\x88\\xb5" + b"ivt-ether" + pad)
            # a router advertisement from the link-local address (hop limit 255), and a control
            r = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
            r.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
            r.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, 255)
            idx = socket.if_nametoindex("eth0")
            opt = bytes([253, 2]) + b"ivt-ra" + bytes(8)            # unknown option, 16 bytes, carries the marker
            ra = bytes([134, 0, 0, 0, 64, 0, 0x07, 0x08]) + bytes(8) + opt
            r.sendto(ra, ("ff02::1", 0, 0, idx))
            echo = bytes([128, 0, 0, 0, 0, 1, 0, 1]) + b"ivt-icmp6-ok"
            r.sendto(echo, ("ff02::1", 0, 0, idx))
            """;

    @Test
    @Order(14)
    void framesThatCouldFoolPeersAreDropped() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/python3")), "needs python3 for raw frames");
        firewall.link(A.port(), D.port());
        reachable(ping(D, A.ip4()));
        List<String> markers = List.of("ivt-vlan", "ivt-ether", "ivt-ra", "ivt-icmp6-ok", "ivt-dhcp", "ivt-udp-ok");
        List<String> cmd = new ArrayList<>(in(A.ns(), "/usr/bin/python3", "-c", SNIFFER, "4"));
        cmd.addAll(markers);
        Process sniffer = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        started.add(sniffer);
        BufferedReader out = new BufferedReader(new InputStreamReader(sniffer.getInputStream(), StandardCharsets.UTF_8));
        assertEquals("ready", out.readLine());

        run(in(D.ns(), "/usr/bin/python3", "-c", RAW_SENDER, A.mac().canonical(), D.mac().canonical()));
        // a DHCP server answer (source port 67) and a control datagram, both to A's echo port
        exec(10, "ivt-dhcp\n", in(D.ns(), "socat", "-T1", "-t1", "-", "UDP4:" + A.ip4() + ":8081,sourceport=67").toArray(String[]::new));
        exec(10, "ivt-udp-ok\n", in(D.ns(), "socat", "-T1", "-t1", "-", "UDP4:" + A.ip4() + ":8081").toArray(String[]::new));

        String seen = out.readLine();
        assertTrue(sniffer.waitFor(10, TimeUnit.SECONDS));
        assertTrue(seen != null && seen.contains("ivt-icmp6-ok") && seen.contains("ivt-udp-ok"),
                "the controls must arrive (else the test proves nothing): " + seen);
        for (String dropped : List.of("ivt-vlan", "ivt-ether", "ivt-ra", "ivt-dhcp")) {
            assertFalse(seen.contains(dropped), dropped + " reached the peer: " + seen);
        }
    }

    /**
     * The reconciler's replacement: one transaction swaps what a crashed agent left (a link, a
     * forward and internet access of C's) for the stored state; a connection between ports
     * linked before and after goes on. A replacement nft refuses (a forward key mapped twice)
     * throws and changes nothing: no flush without the elements that follow it.
     */
    @Test
    @Order(16)
    void replaceElementsSwapsTheWholeStateInOneTransaction() throws Exception {
        firewall.link(A.port(), B.port());
        firewall.link(A.port(), C.port());
        firewall.setInternet(C.v4(), C.v6(), true);
        netns.setInternet(pids.get(C), true);
        firewall.addForward(Protocol.TCP, FWD_TCP, C.v4(), 8080);
        reachable(ping(A, C.ip4()), ping(C, "198.18.0.2"), tcp(clientNs, "198.19.0.1", FWD_TCP, C.ip4() + "\n169.254.0.1"));

        java.util.function.Consumer<FirewallElements> stored = batch -> {
            for (Box b : boxes) {
                batch.addPort(b.port(), b.mac(), b.v4(), b.v6());
                batch.setInternet(b.v4(), b.v6(), false);
            }
            batch.link(A.port(), B.port());
            batch.addForward(Protocol.TCP, FWD_TCP, B.v4(), 8080);
        };
        try (Session s = new Session(A.ns(), "TCP4:" + B.ip4() + ":7001")) {
            assertEquals("one", s.roundTrip("one"));
            firewall.replaceElements(stored);
            assertEquals("two", s.roundTrip("two"), "a connection of a pair linked before and after dropped");
        }
        String toB = B.ip4() + "\n169.254.0.1";
        reachable(ping(A, B.ip4()), ping(B, A.ip6()), tcp(clientNs, "198.19.0.1", FWD_TCP, toB));
        unreachable(ping(A, C.ip4()), ping(C, A.ip4()), ping(C, "198.18.0.2"));

        CommandFailedException e = assertThrows(CommandFailedException.class, () -> firewall.replaceElements(batch -> {
            batch.addForward(Protocol.TCP, FWD_TCP, C.v4(), 8080);
            batch.addForward(Protocol.TCP, FWD_TCP, D.v4(), 8080);
        }));
        assertTrue(e.getMessage().contains("File exists"), e.getMessage());
        reachable(ping(A, B.ip4()), tcp(clientNs, "198.19.0.1", FWD_TCP, toB));
        netns.setInternet(pids.get(C), false);
    }

    @Test
    @Order(17)
    void aMovedPortKeepsItsMacAndTheAddressThatStays() throws Exception {
        firewall.link(A.port(), B.port());
        reachable(ping(A, B.ip4()), ping(A, B.ip6()));
        Inet4Address elsewhere = (Inet4Address) java.net.InetAddress.getByName("10.0.0.99");
        firewall.movePort(A.port(), A.mac(), A.v4(), A.v6(), elsewhere, A.v6());
        // A still sends from its old IPv4, no longer registered; its MAC and IPv6 are untouched
        unreachable(ping(A, B.ip4()));
        reachable(ping(A, B.ip6()));
        String v4 = guest("nft", "list", "set", "bridge", table, "port_ipv4");
        assertTrue(v4.contains("10.0.0.99") && !v4.matches("(?s).*\\b10\\.0\\.0\\.5\\b.*"), v4);
        firewall.movePort(A.port(), A.mac(), elsewhere, A.v6(), A.v4(), A.v6());
        reachable(ping(A, B.ip4()), ping(A, B.ip6()));
        firewall.unlink(A.port(), B.port());
    }

    // =====================================================================================
    // helpers

    /** A long-lived socat in a namespace, driven line by line. */
    final class Session implements AutoCloseable {
        final Process p;
        final OutputStream out;
        final BlockingQueue<String> lines = new LinkedBlockingQueue<>();

        Session(String ns, String address) throws IOException {
            p = new ProcessBuilder(in(ns, "socat", "-", address + ",connect-timeout=2")).start();
            started.add(p);
            out = p.getOutputStream();
            Thread t = new Thread(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                    String line;
                    while ((line = r.readLine()) != null) {
                        lines.add(line);
                    }
                } catch (IOException e) {
                    // process gone
                }
            }, "session-reader");
            t.setDaemon(true);
            t.start();
        }

        /** Sends a line, returns the echoed line or null after 2 s. */
        String roundTrip(String line) throws Exception {
            try {
                out.write((line + "\n").getBytes(StandardCharsets.UTF_8));
                out.flush();
            } catch (IOException e) {
                return null;
            }
            return lines.poll(2, TimeUnit.SECONDS);
        }

        @Override
        public void close() {
            p.destroyForcibly();
        }
    }

    /** A socat writing what it receives on {@code address} in the internet namespace to its stdout. */
    record Sink(Process process, Path file) {
    }

    Sink sink(String address) throws Exception {
        Path file = Files.createTempFile("ivt-sink", ".txt");
        Process p = new ProcessBuilder(in(inetNs, "socat", "-u", address, "STDOUT")).redirectErrorStream(true)
                .redirectOutput(file.toFile()).start();
        started.add(p);
        String port = address.substring(address.indexOf(':') + 1);
        waitListening(inetNs, "-lun", Integer.parseInt(port));
        return new Sink(p, file);
    }

    /** Everything the sink received (it is stopped and its file removed). */
    static String drain(Sink sink) throws Exception {
        Thread.sleep(300);
        sink.process().destroy();
        sink.process().waitFor(2, TimeUnit.SECONDS);
        String got = Files.readString(sink.file());
        Files.deleteIfExists(sink.file());
        return got;
    }

    static void datagram(String ns, String address, String payload) {
        exec(10, payload + "\n", in(ns, "socat", "-u", "-", address));
    }

    String state(Box b) {
        return run(in(b.ns(), "ip", "-o", "addr", "show", "dev", "eth0")).replaceAll("valid_lft.*", "")
                + run(in(b.ns(), "ip", "route", "show")) + run(in(b.ns(), "ip", "-6", "route", "show"));
    }

    Box box(String name, String mac, String v4, String v6) {
        return new Box(nsPrefix + name, "ivt" + id() + name, new MacAddress(mac), ipv4(v4), ipv6(v6));
    }

    static List<String> in(String ns, String... command) {
        List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", ns));
        cmd.addAll(List.of(command));
        return cmd;
    }

    static String run(String... command) {
        return ProcessRunner.run(List.of(command));
    }

    static String run(List<String> command) {
        return ProcessRunner.run(command);
    }

    static ProcessRunner.Result exec(long timeoutSeconds, String stdin, String... command) {
        return ProcessRunner.exec(List.of(command), stdin, timeoutSeconds);
    }

    static ProcessRunner.Result exec(long timeoutSeconds, String stdin, List<String> command) {
        return ProcessRunner.exec(command, stdin, timeoutSeconds);
    }

    /** A command in the guest namespace (where the agent would run). */
    String guest(String... command) {
        return ProcessRunner.run(concat(inGuest, command));
    }

    static List<String> concat(List<String> prefix, String... command) {
        List<String> cmd = new ArrayList<>(prefix);
        cmd.addAll(List.of(command));
        return cmd;
    }
}
