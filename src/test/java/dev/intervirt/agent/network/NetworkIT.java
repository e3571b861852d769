package dev.intervirt.agent.network;

import dev.intervirt.agent.host.ProcessRunner;
import dev.intervirt.agent.support.AgentClient;
import dev.intervirt.agent.support.AgentClient.Exchange;
import dev.intervirt.agent.support.TestAgent;
import jakarta.json.JsonObjectBuilder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static dev.intervirt.agent.support.AgentClient.request;
import static dev.intervirt.agent.support.HostCommands.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Real containers, real packets measured inside them: the reachability matrix follows the link
 * graph exactly (not transitively) over IPv4 ping, IPv6 ping and TCP, through disconnects,
 * address changes and restarts; internet access against a stand-in "internet" namespace; port
 * forwards from a client namespace; and the ways a container could try to get around its wires.
 *
 * <p>The stand-ins use 198.18.100.0/24 and 198.19.100.0/24 (of 198.18.0.0/15 (reserved for benchmarks) inside namespaces this test
 * makes; no packet leaves the machine.)
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class NetworkIT {

    /** id → {ipv4, ipv6}; four different subnets. */
    static final Map<String, String[]> NODES = new LinkedHashMap<>();

    static {
        NODES.put("c1", new String[]{"10.0.0.5", "fd00:1::5"});
        NODES.put("c2", new String[]{"172.16.5.5", "fd00:2::5"});
        NODES.put("c3", new String[]{"192.168.7.12", "fd3:a:1f::12"});
        NODES.put("c4", new String[]{"192.168.200.1", "fd00:4::1"});
    }

    static final String INTERNET_NS = "ivagent-inet";
    static final String CLIENT_NS = "ivagent-client";
    static final String INTERNET_HOST = "198.18.100.2";
    static final String INTERNET_HOST6 = "fd98:100::2";
    static final String CLIENT_SIDE_GUEST = "198.19.100.1";
    static final int TCP_PORT = 7777;

    private static TestAgent agent;
    private static AgentClient client;
    private static final List<Process> listeners = new ArrayList<>();

    @BeforeAll
    static void setUp() {
        removeStandIns();
        agent = TestAgent.start();
        client = agent.client();
        int n = 1;
        for (var e : NODES.entrySet()) {
            succeeded(client.call(add(e.getKey(), e.getValue()[0], e.getValue()[1], String.format("02:00:00:00:01:%02x", n++))));
            succeeded(client.call(request("StartContainer").add("id", e.getKey())));
        }
        startListeners();
        makeStandIns();
    }

    @AfterAll
    static void tearDown() {
        listeners.forEach(Process::destroyForcibly);
        if (client != null) {
            client.close();
        }
        if (agent != null) {
            agent.close();
        }
        removeStandIns();
    }

    @Test
    @Order(1)
    void reachabilityFollowsTheLinkGraphExactly() {
        succeeded(client.call(connect("Connect", "c1", "c2")));
        succeeded(client.call(connect("Connect", "c2", "c3")));
        succeeded(client.call(connect("Connect", "c3", "c4")));
        assertMatrix(Set.of("c1-c2", "c2-c3", "c3-c4"), "three links in a chain");
        assertTrue(udpDelivers("c1", "c2", "udp-linked"), "UDP over a link");
        assertFalse(udpDelivers("c1", "c3", "udp-unlinked"), "no UDP without a link");

        Exchange again = client.call(connect("Connect", "c2", "c1"));
        assertEquals(3, again.code(), "already connected");
        assertEquals(8, client.call(connect("Connect", "c1", "c1")).code(), "self-connect");
        Exchange unknown = client.call(connect("Connect", "c1", "nobody"));
        assertEquals(6, unknown.code());
        assertTrue(unknown.error().contains("nobody"));

        succeeded(client.call(connect("Disconnect", "c2", "c3")));
        assertMatrix(Set.of("c1-c2", "c3-c4"), "after Disconnect c2-c3");
        assertEquals(3, client.call(connect("Disconnect", "c2", "c3")).code(), "not connected");
    }

    @Test
    @Order(2)
    void anAddressChangeIsLiveForItsPeers() {
        succeeded(client.call(request("IDWithNewIpv4").add("id", "c1").add("newIpv4", "10.9.9.9")));
        succeeded(client.call(request("IDWithNewIpv6").add("id", "c1").add("newIP", "fd00:9::9")));
        NODES.put("c1", new String[]{"10.9.9.9", "fd00:9::9"});
        assertMatrix(Set.of("c1-c2", "c3-c4"), "after c1 changed both addresses");
        assertEquals(0, pingCount("c2", "10.0.0.5"), "the old address is gone");
    }

    @Test
    @Order(3)
    void linksAndAddressesSurviveARestart() {
        succeeded(client.call(request("StopContainer").add("id", "c2")));
        succeeded(client.call(request("StartContainer").add("id", "c2")));
        restartListener("c2");
        assertMatrix(Set.of("c1-c2", "c3-c4"), "after restarting c2");

        // A reboot from inside: libvirt restarts the domain with a new init and a bare eth0.
        int before = initPid(agent.domain("c2"));
        ProcessRunner.Result reboot = inside(agent.domain("c2"), "systemctl", "reboot");
        assertTrue(reboot.ok(), "systemctl reboot: " + reboot.stderr() + reboot.stdout());
        long deadline = System.currentTimeMillis() + 30_000;
        while (System.currentTimeMillis() < deadline) {
            sleep(200);
            try {
                if (initPid(agent.domain("c2")) != before && pingCount("c2", NODES.get("c1")[0]) > 0) {
                    break;
                }
            } catch (AssertionError notYet) {
                // between the old and the new init
            }
        }
        assertNotEquals(before, initPid(agent.domain("c2")), "the container rebooted");
        restartListener("c2");
        assertMatrix(Set.of("c1-c2", "c3-c4"), "after a reboot inside c2");

        // A link to a stopped container is topology: it is in force once the container starts.
        succeeded(client.call(request("StopContainer").add("id", "c4")));
        succeeded(client.call(connect("Connect", "c1", "c4")));
        succeeded(client.call(request("StartContainer").add("id", "c4")));
        restartListener("c4");
        assertEquals("v4 v6 tcp", probe("c1", "c4"), "linked while stopped");
        assertEquals("v4 v6 tcp", probe("c4", "c1"), "linked while stopped");
        succeeded(client.call(connect("Disconnect", "c1", "c4")));
        assertEquals("", probe("c1", "c4"), "and cut again");
    }

    @Test
    @Order(4)
    void bypassAttemptsFail() {
        // c1 and c3 are not connected. c1 routes c3 via the gateway, then on-link, then takes c4's address.
        String c3 = NODES.get("c3")[0];
        assertTrue(inside(agent.domain("c1"), "ip", "route", "replace", c3 + "/32", "via", "169.254.0.1", "dev", "eth0",
                "onlink").ok());
        assertEquals(0, pingCount("c1", c3), "own route via the gateway");
        assertTrue(inside(agent.domain("c1"), "ip", "route", "replace", c3 + "/32", "dev", "eth0").ok());
        assertEquals(0, pingCount("c1", c3), "own on-link route");
        assertTrue(inside(agent.domain("c1"), "ip", "addr", "add", NODES.get("c4")[0] + "/32", "dev", "eth0").ok());
        assertFalse(tcpOpen("c1", c3, TCP_PORT, NODES.get("c4")[0]), "spoofed source address");
        inside(agent.domain("c1"), "ip", "addr", "del", NODES.get("c4")[0] + "/32", "dev", "eth0");
        String oldMac = inside(agent.domain("c1"), "cat", "/sys/class/net/eth0/address").stdout().trim();
        assertTrue(inside(agent.domain("c1"), "ip", "link", "set", "eth0", "address", "02:00:00:00:01:03").ok());
        assertEquals(0, pingCount("c1", NODES.get("c2")[0]), "a changed MAC loses even the real link");
        inside(agent.domain("c1"), "ip", "link", "set", "eth0", "address", oldMac);
        inside(agent.domain("c1"), "ip", "route", "del", c3 + "/32");

        // The agent's port and other guest services are out of reach.
        assertFalse(tcpOpen("c1", "169.254.0.1", agent.port(), null), "the agent's port from inside a container");
        assertFalse(tcpOpen("c1", CLIENT_SIDE_GUEST, agent.port(), null), "the agent's port on another guest address");
        assertTrue(pingCount("c1", NODES.get("c2")[0]) > 0, "the real link still works after the attempts");
    }

    @Test
    @Order(5)
    void internetAccessFollowsTheFlag() {
        String id = "c3";
        assertTrue(inside(agent.domain(id), "ping", "-c1", "-W1", INTERNET_HOST).stderr().contains("Network is unreachable"),
                "no default route without internet");
        succeeded(client.call(request("SetInternetAccess").add("id", id).add("enabled", true)));
        assertTrue(pingCount(id, INTERNET_HOST) > 0, "NATed out to the stand-in internet");
        assertTrue(pingCount(id, INTERNET_HOST6) > 0, "IPv6 too");
        assertEquals(3, client.call(request("SetInternetAccess").add("id", id).add("enabled", true)).code());
        succeeded(client.call(request("SetInternetAccess").add("id", id).add("enabled", false)));
        assertTrue(inside(agent.domain(id), "ping", "-c1", "-W1", INTERNET_HOST).stderr().contains("Network is unreachable"));
        // Adding the default route by hand does not help: the guest drops it.
        inside(agent.domain(id), "ip", "route", "add", "default", "via", "169.254.0.1", "dev", "eth0", "onlink");
        assertEquals(0, pingCount(id, INTERNET_HOST), "the guest drops what a container without internet sends");
        inside(agent.domain(id), "ip", "route", "del", "default");
    }

    @Test
    @Order(6)
    void portForwardsReachAContainerWithoutInternet() throws Exception {
        String id = "c4";
        Process tcp = startInside(agent.domain(id), "nc", "-l", "-p", "8080");
        Process udp = startInside(agent.domain(id), "nc", "-u", "-l", "-p", "5353");
        listeners.add(tcp);
        listeners.add(udp);
        Thread.sleep(300);
        succeeded(client.call(forward(id, 8080, 18080, "tcp")));
        succeeded(client.call(forward(id, 5353, 15353, "udp")));
        assertEquals(3, client.call(forward(id, 8080, 18080, "tcp")).code(), "identical forward");
        Exchange taken = client.call(forward("c3", 22, 18080, "tcp"));
        assertEquals(8, taken.code());
        assertTrue(taken.error().contains(id));
        assertEquals(8, client.call(forward(id, 1, agent.port(), "tcp")).code(), "the agent's own port");

        ProcessRunner.Result sent = inNetns(CLIENT_NS, "sh", "-c", "echo hello-tcp | nc -N -w3 " + CLIENT_SIDE_GUEST + " 18080");
        assertTrue(sent.ok(), sent.stderr());
        assertTrue(tcp.waitFor(5, TimeUnit.SECONDS), "the container's listener got the connection");
        assertTrue(new String(tcp.getInputStream().readAllBytes()).contains("hello-tcp"));

        inNetns(CLIENT_NS, "sh", "-c", "echo hello-udp | nc -u -w1 " + CLIENT_SIDE_GUEST + " 15353");
        assertTrue(readAvailable(udp, 5000).contains("hello-udp"), "UDP datagram arrived in the container");

        // From the guest's own loopback too.
        Process tcp2 = startInside(agent.domain(id), "nc", "-l", "-p", "8080");
        listeners.add(tcp2);
        Thread.sleep(300);
        assertTrue(sh("sh", "-c", "echo hello-local | nc -N -w3 127.0.0.1 18080").ok());
        assertTrue(tcp2.waitFor(5, TimeUnit.SECONDS));
        assertTrue(new String(tcp2.getInputStream().readAllBytes()).contains("hello-local"));

        succeeded(client.call(request("RemovePortForwarding").add("externalPort", 18080).add("protocol", "tcp")));
        assertEquals(6, client.call(request("RemovePortForwarding").add("externalPort", 18080).add("protocol", "tcp")).code());
        Process tcp3 = startInside(agent.domain(id), "nc", "-l", "-p", "8080");
        listeners.add(tcp3);
        Thread.sleep(300);
        inNetns(CLIENT_NS, "sh", "-c", "echo gone | nc -N -w2 " + CLIENT_SIDE_GUEST + " 18080");
        assertFalse(tcp3.waitFor(2, TimeUnit.SECONDS), "a removed forward carries nothing");

        // A forward follows the container's address, and one made while it is stopped waits for it.
        succeeded(client.call(forward(id, 8081, 18081, "tcp")));
        succeeded(client.call(request("IDWithNewIpv4").add("id", id).add("newIpv4", "192.168.201.1")));
        NODES.put(id, new String[]{"192.168.201.1", NODES.get(id)[1]});
        assertTrue(forwardDelivers(id, 8081, 18081, "after-ip-change"), "the forward follows the new address");
        succeeded(client.call(request("StopContainer").add("id", id)));
        succeeded(client.call(forward(id, 8082, 18082, "tcp")));
        succeeded(client.call(request("StartContainer").add("id", id)));
        assertTrue(forwardDelivers(id, 8082, 18082, "made-while-stopped"), "the forward waited for the container");
    }

    /** A UDP datagram from one container to another's IPv4 address arrives (or not). */
    private static boolean udpDelivers(String from, String to, String word) {
        try {
            Process listener = startInside(agent.domain(to), "nc", "-u", "-l", "-p", "9999");
            listeners.add(listener);
            Thread.sleep(300);
            inside(agent.domain(from), "sh", "-c", "echo " + word + " | nc -u -w1 " + NODES.get(to)[0] + " 9999");
            boolean got = readAvailable(listener, 2000).contains(word);
            listener.destroyForcibly();
            return got;
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    /** A listener in the container on {@code internal}; the client sends a word to the guest's {@code external}. */
    private static boolean forwardDelivers(String id, int internal, int external, String word) throws Exception {
        Process listener = startInside(agent.domain(id), "nc", "-l", "-p", Integer.toString(internal));
        listeners.add(listener);
        Thread.sleep(300);
        inNetns(CLIENT_NS, "sh", "-c", "echo " + word + " | nc -N -w3 " + CLIENT_SIDE_GUEST + " " + external);
        return listener.waitFor(5, TimeUnit.SECONDS) && new String(listener.getInputStream().readAllBytes()).contains(word);
    }

    // ---- matrix -----------------------------------------------------------------------------

    private static void assertMatrix(Set<String> links, String when) {
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            Map<String, Future<String>> results = new LinkedHashMap<>();
            for (String a : NODES.keySet()) {
                for (String b : NODES.keySet()) {
                    if (!a.equals(b)) {
                        results.put(a + "->" + b, pool.submit(() -> probe(a, b)));
                    }
                }
            }
            Set<String> wrong = new TreeSet<>();
            for (var e : results.entrySet()) {
                String[] ab = e.getKey().split("->");
                boolean linked = links.contains(ab[0] + "-" + ab[1]) || links.contains(ab[1] + "-" + ab[0]);
                String expected = linked ? "v4 v6 tcp" : "";
                String actual = e.getValue().get(60, TimeUnit.SECONDS);
                if (!expected.equals(actual)) {
                    wrong.add(e.getKey() + " expected [" + expected + "] got [" + actual + "]");
                }
            }
            assertTrue(wrong.isEmpty(), when + ": " + wrong);
        } catch (Exception e) {
            throw new AssertionError(e);
        } finally {
            pool.shutdownNow();
        }
    }

    /** What gets from a to b: "v4", "v6", "tcp" as they succeed. */
    private static String probe(String a, String b) {
        List<String> got = new ArrayList<>();
        if (pingCount(a, NODES.get(b)[0]) > 0) {
            got.add("v4");
        }
        if (pingCount(a, NODES.get(b)[1]) > 0) {
            got.add("v6");
        }
        if (tcpOpen(a, NODES.get(b)[0], TCP_PORT, null)) {
            got.add("tcp");
        }
        return String.join(" ", got);
    }

    /**
     * The topology change is saved while the wire is made (Alongside): when the save fails, the
     * wire made meanwhile is taken down again and the link is not remembered, so the same
     * Connect succeeds once the disk takes it.
     */
    @Test
    @Order(7)
    void aLinkThatCannotBeSavedIsNeitherWiredNorRemembered() throws Exception {
        String c1 = NODES.get("c1")[0];
        assertEquals(0, pingCount("c4", c1), "c1 and c4 are not linked yet");
        Path journal = agent.config().stateDir().resolve("topology.journal");
        Files.deleteIfExists(journal);
        Files.createDirectory(journal); // no line can be appended to it
        try {
            Exchange failed = client.call(connect("Connect", "c1", "c4"));
            assertTrue(failed.code() != 0, "the Connect failed");
            assertTrue(failed.error().contains("Cannot save"), failed.error());
            assertEquals(0, pingCount("c4", c1), "no wire is left behind");
        } finally {
            Files.delete(journal);
        }
        succeeded(client.call(connect("Connect", "c1", "c4")));
        assertEquals(1, pingCount("c4", c1), "wired once saved");
        succeeded(client.call(connect("Disconnect", "c1", "c4")));
        assertEquals(0, pingCount("c4", c1));
    }

    private static int pingCount(String from, String to) {
        ProcessRunner.Result r = inside(agent.domain(from), "ping", "-c2", "-i0.2", "-W1", to);
        return r.stdout().contains(" 0 received") || !r.stdout().contains("received") ? 0 : 1;
    }

    private static boolean tcpOpen(String from, String to, int port, String source) {
        List<String> cmd = new ArrayList<>(List.of("nc", "-z", "-w2"));
        if (source != null) {
            cmd.addAll(List.of("-s", source));
        }
        cmd.addAll(List.of(to, Integer.toString(port)));
        return inside(agent.domain(from), cmd.toArray(String[]::new)).ok();
    }

    // ---- set-up -----------------------------------------------------------------------------

    private static void startListeners() {
        for (String id : NODES.keySet()) {
            restartListener(id);
        }
    }

    /**
     * A TCP listener daemonised inside the container (its parent becomes the container's init),
     * so that a shutdown inside does not wait for a process whose parent is on the host.
     */
    private static void restartListener(String id) {
        ProcessRunner.Result r = inside(agent.domain(id), "sh", "-c",
                "nc -lk -p " + TCP_PORT + " </dev/null >/dev/null 2>&1 &");
        assertTrue(r.ok(), r.stderr());
        sleep(300);
    }

    /** A stand-in internet (198.18.100.2, fd98:100::2) and a client (198.19.100.2), each a namespace on a veth. */
    private static void makeStandIns() {
        ok("ip", "netns", "add", INTERNET_NS);
        ok("ip", "link", "add", "ivagent-i0", "type", "veth", "peer", "name", "ivagent-i1");
        ok("ip", "link", "set", "ivagent-i1", "netns", INTERNET_NS);
        ok("ip", "addr", "add", "198.18.100.1/24", "dev", "ivagent-i0");
        ok("ip", "-6", "addr", "add", "fd98:100::1/64", "dev", "ivagent-i0", "nodad");
        ok("ip", "link", "set", "ivagent-i0", "up");
        inNetnsOk(INTERNET_NS, "ip", "addr", "add", INTERNET_HOST + "/24", "dev", "ivagent-i1");
        inNetnsOk(INTERNET_NS, "ip", "-6", "addr", "add", INTERNET_HOST6 + "/64", "dev", "ivagent-i1", "nodad");
        inNetnsOk(INTERNET_NS, "ip", "link", "set", "ivagent-i1", "up");
        inNetnsOk(INTERNET_NS, "ip", "link", "set", "lo", "up");

        ok("ip", "netns", "add", CLIENT_NS);
        ok("ip", "link", "add", "ivagent-c0", "type", "veth", "peer", "name", "ivagent-c1");
        ok("ip", "link", "set", "ivagent-c1", "netns", CLIENT_NS);
        ok("ip", "addr", "add", CLIENT_SIDE_GUEST + "/24", "dev", "ivagent-c0");
        ok("ip", "link", "set", "ivagent-c0", "up");
        inNetnsOk(CLIENT_NS, "ip", "addr", "add", "198.19.100.2/24", "dev", "ivagent-c1");
        inNetnsOk(CLIENT_NS, "ip", "link", "set", "ivagent-c1", "up");
        inNetnsOk(CLIENT_NS, "ip", "link", "set", "lo", "up");
        inNetnsOk(CLIENT_NS, "ip", "route", "add", "default", "via", CLIENT_SIDE_GUEST);
        sleep(500);
    }

    private static void removeStandIns() {
        sh("ip", "netns", "delete", INTERNET_NS);
        sh("ip", "netns", "delete", CLIENT_NS);
        sh("ip", "link", "delete", "ivagent-i0");
        sh("ip", "link", "delete", "ivagent-c0");
    }

    private static void inNetnsOk(String ns, String... cmd) {
        ProcessRunner.Result r = inNetns(ns, cmd);
        assertTrue(r.ok(), String.join(" ", cmd) + ": " + r.stderr());
    }

    // ---- requests ---------------------------------------------------------------------------

    static JsonObjectBuilder add(String id, String ipv4, String ipv6, String mac) {
        return request("AddContainer").add("id", id).add("ipv4", ipv4).add("ipv6", ipv6).add("mac", mac)
                .add("internet", false).add("image", "debian/13");
    }

    static JsonObjectBuilder connect(String type, String a, String b) {
        return request(type).add("id1", a).add("id2", b);
    }

    static JsonObjectBuilder forward(String id, int internal, int external, String protocol) {
        return request("AddPortForwarding").add("id", id).add("internalPort", internal).add("externalPort", external)
                .add("protocol", protocol);
    }

    private static void succeeded(Exchange x) {
        assertTrue(x.ok(), x::toString);
    }

    private static String readAvailable(Process p, long millis) throws Exception {
        long deadline = System.currentTimeMillis() + millis;
        StringBuilder sb = new StringBuilder();
        var in = p.getInputStream();
        while (System.currentTimeMillis() < deadline) {
            while (in.available() > 0) {
                sb.append((char) in.read());
            }
            if (sb.length() > 0) {
                return sb.toString();
            }
            Thread.sleep(50);
        }
        return sb.toString();
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
