package dev.intervirt.agent.state;

import dev.intervirt.agent.host.ProcessRunner;
import dev.intervirt.agent.support.AgentClient.Exchange;
import dev.intervirt.agent.support.LiveAgent;
import dev.intervirt.agent.support.TestAgent;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static dev.intervirt.agent.support.AgentClient.request;
import static dev.intervirt.agent.support.HostCommands.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The agent heals its own network while it runs: its bridge, its tables and its host routes are
 * removed underneath two linked, running containers with a port forward; within seconds the
 * containers ping each other again, the forward carries a connection, and the containers never
 * stopped (same init). Also: a fresh host's missing libvirt directory is made by the live.agent().
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class NetworkHealIT {

    private static final String A4 = "10.61.0.1";
    private static final String B4 = "10.62.0.2";
    private static final String B6 = "fd00:62::2";
    private static final int INTERNAL = 7070;
    private static final int EXTERNAL = 17070;
    /** The agent looks every 2 s (tables and routes every 10 s): a repair is due within ~12 s. */
    private static final Duration HEALED_WITHIN = Duration.ofSeconds(25);

    @RegisterExtension
    static final LiveAgent live = new LiveAgent();
    private static int initA;
    private static int initB;

    @BeforeAll
    static void setUp() throws Exception {
        TestAgent.wipeHost();
        // As on a fresh machine: only the package's own directories under /var/lib/libvirt.
        ok("rm", "-rf", "/var/lib/libvirt/dnsmasq");
        live.start();
        succeeded(live.client().call(request("AddContainer").add("id", "ha").add("ipv4", A4).add("ipv6", "fd00:61::1")
                .add("mac", "02:00:00:00:61:01").add("internet", false).add("image", "debian/13")));
        succeeded(live.client().call(request("AddContainer").add("id", "hb").add("ipv4", B4).add("ipv6", B6)
                .add("mac", "02:00:00:00:62:02").add("internet", false).add("image", "debian/13")));
        succeeded(live.client().call(request("StartContainer").add("id", "ha")));
        succeeded(live.client().call(request("StartContainer").add("id", "hb")));
        succeeded(live.client().call(request("Connect").add("id1", "ha").add("id2", "hb")));
        succeeded(live.client().call(request("AddPortForwarding").add("id", "hb").add("internalPort", INTERNAL)
                .add("externalPort", EXTERNAL).add("protocol", "tcp")));
        initA = initPid(live.agent().domain("ha"));
        initB = initPid(live.agent().domain("hb"));
    }

    @Test
    @Order(1)
    void aFreshHostsMissingLibvirtDirectoryWasMadeByTheAgent() {
        assertTrue(Files.isDirectory(Path.of("/var/lib/libvirt/dnsmasq")), "the agent made libvirt's dnsmasq directory");
        assertTrue(pings(), "linked containers ping at first");
        assertTrue(forwardDelivers("first"), "the forward works at first");
    }

    @Test
    @Order(2)
    void theBridgeDeletedUnderneathComesBackWithLinksAndForwards() {
        ok("ip", "link", "delete", "dev", TestAgent.BRIDGE);
        assertFalse(linkExists(TestAgent.BRIDGE));
        long t0 = System.nanoTime();
        awaitTrue(NetworkHealIT::pings, "linked containers ping again after the bridge was deleted");
        System.out.printf("NetworkHealIT: bridge deleted -> pinging again after %.1f s%n", (System.nanoTime() - t0) / 1e9);
        assertTrue(forwardDelivers("after-bridge"), "the forward carries a connection again");
        assertTrue(linkExists(TestAgent.BRIDGE));
        assertStillRunning();
        // And requests work as before.
        succeeded(live.client().call(request("Disconnect").add("id1", "ha").add("id2", "hb")));
        assertFalse(pings(), "disconnected after the repair");
        succeeded(live.client().call(request("Connect").add("id1", "ha").add("id2", "hb")));
        assertTrue(pings(), "connected again");
    }

    @Test
    @Order(3)
    void deletedTablesAndHostRoutesComeBack() {
        ok("nft", "delete", "table", "inet", TestAgent.OWNER);
        ok("ip", "route", "del", B4 + "/32", "dev", TestAgent.BRIDGE);
        long t0 = System.nanoTime();
        awaitTrue(() -> sh("nft", "list", "table", "inet", TestAgent.OWNER).ok()
                && sh("ip", "route", "show", B4 + "/32", "dev", TestAgent.BRIDGE).stdout().contains(B4), "table and route are back");
        System.out.printf("NetworkHealIT: table and route deleted -> back after %.1f s%n", (System.nanoTime() - t0) / 1e9);
        awaitTrue(() -> forwardDelivers("after-table"), "the forward (inet table, host route) works again");
        assertTrue(pings());
        assertStillRunning();
    }

    @Test
    @Order(4)
    void theNetworkStoppedInLibvirtComesBack() {
        ok("virsh", "-c", "lxc:///system", "net-destroy", TestAgent.OWNER);
        awaitTrue(NetworkHealIT::pings, "linked containers ping again after net-destroy");
        assertTrue(forwardDelivers("after-net-destroy"));
        assertStillRunning();
    }

    @Test
    @Order(5)
    void libvirtsDirectoryRemovedWhileTheAgentRunsIsMadeAgainAtTheNextStart() {
        succeeded(live.client().call(request("StopContainer").add("id", "hb")));
        ok("rm", "-rf", "/var/lib/libvirt/dnsmasq");
        succeeded(live.client().call(request("StartContainer").add("id", "hb")));
        initB = initPid(live.agent().domain("hb"));
        assertTrue(pings(), "the restarted container is linked again");
    }

    private static void assertStillRunning() {
        assertEquals(initA, initPid(live.agent().domain("ha")), "ha kept running (same init)");
        assertEquals(initB, initPid(live.agent().domain("hb")), "hb kept running (same init)");
    }

    private static boolean pings() {
        ProcessRunner.Result r = inside(live.agent().domain("ha"), "ping", "-c1", "-W1", B4);
        ProcessRunner.Result r6 = inside(live.agent().domain("ha"), "ping", "-c1", "-W1", B6);
        return r.ok() && r6.ok();
    }

    /** A listener in hb; a connection to the guest's loopback port reaches it with a word. */
    private static boolean forwardDelivers(String word) {
        Process listener = startInside(live.agent().domain("hb"), "nc", "-l", "-p", Integer.toString(INTERNAL));
        try {
            Thread.sleep(300);
            sh("sh", "-c", "echo " + word + " | nc -N -w3 127.0.0.1 " + EXTERNAL);
            return listener.waitFor(5, TimeUnit.SECONDS) && new String(listener.getInputStream().readAllBytes()).contains(word);
        } catch (Exception e) {
            return false;
        } finally {
            listener.destroyForcibly();
        }
    }

    private static void awaitTrue(BooleanSupplier condition, String what) {
        long deadline = System.nanoTime() + HEALED_WITHIN.toNanos();
        while (System.nanoTime() < deadline) {
            if (condition.getAsBoolean()) {
                return;
            }
            sleep(250);
        }
        fail(what + " (not within " + HEALED_WITHIN.toSeconds() + " s)");
    }

    private static void succeeded(Exchange x) {
        assertTrue(x.ok(), x::toString);
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
