package dev.intervirt.agent.e2e;

import dev.intervirt.agent.host.ProcessRunner;
import dev.intervirt.agent.support.AgentClient;
import dev.intervirt.agent.support.AgentClient.Exchange;
import jakarta.json.JsonObjectBuilder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static dev.intervirt.agent.support.AgentClient.request;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The appliance end to end: the agent installed by Ansible in a Debian 13 VM, reached from
 * the host through the forwarded port, like the desktop client reaches it. What the agent
 * claims is checked inside the VM and inside its containers (over ssh: {@code guestExec}),
 * never through the agent's own bookkeeping.
 *
 * <p>Run by {@code ./intervirt e2e} ({@code mvn verify -Pe2e}); not part of the normal verify.
 * Properties: {@code intervirt.e2e.url} (ws://127.0.0.1:55436/containerManagement),
 * {@code intervirt.e2e.guestExec} (a program running its one argument as a root shell script
 * in the VM), {@code intervirt.e2e.neighbourExec} (the same on the VM's network, outside the VM),
 * {@code intervirt.e2e.expectedVersion} (the Maven project version).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ApplianceE2E {

    private static final String A = "e2e-a";
    private static final String B = "e2e-b";
    private static final String A_V4 = "10.90.1.1";
    private static final String B_V4 = "10.90.2.2";
    private static final String A_V6 = "fd00:90:1::1";
    private static final String B_V6 = "fd00:90:2::2";
    private static final int GUEST_PORT = 18080;
    private static final int CONTAINER_PORT = 8000;
    private static final Duration CALL = Duration.ofSeconds(120);

    private static AgentClient client;
    private static String guestExec;
    private static String neighbourExec;

    @BeforeAll
    static void connect() throws InterruptedException {
        guestExec = required("intervirt.e2e.guestExec");
        neighbourExec = required("intervirt.e2e.neighbourExec");
        connectWithRetry(URI.create(required("intervirt.e2e.url")));
        // Leftovers of an interrupted earlier run against the same VM.
        for (String id : List.of(A, B)) {
            client.call(request("RemoveContainer").add("id", id).build(), CALL);
        }
    }

    /** The agent may still be starting (a JVM under TCG): retry for up to 3 minutes. */
    private static void connectWithRetry(URI url) throws InterruptedException {
        client = null;
        long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
        RuntimeException last = null;
        while (System.nanoTime() < deadline) {
            try {
                client = AgentClient.connect(url);
                break;
            } catch (RuntimeException e) {
                last = e;
                Thread.sleep(2000);
            }
        }
        String why = String.valueOf(last);
        assertNotNull(client, () -> "no WebSocket connection to " + url + ": " + why);
    }

    @AfterAll
    static void cleanUp() {
        if (client != null) {
            for (String id : List.of(A, B)) {
                client.call(request("RemoveContainer").add("id", id).build(), CALL);
            }
            client.close();
        }
    }

    @Test
    @Order(1)
    void versionIsTheProjectVersion() {
        Exchange e = call(request("Command").add("command", "version"));
        assertEquals("Version", e.last().getString("type"), e::toString);
        assertEquals(required("intervirt.e2e.expectedVersion").replace("-SNAPSHOT", ""),
                e.last().getString("version").replace("-SNAPSHOT", ""), e::toString);
    }

    @Test
    @Order(2)
    void addedAndStartedContainersRunInTheVmWithTheirAddresses() {
        ok(call(add(A, A_V4, A_V6, "52:54:00:e2:e0:01")));
        ok(call(add(B, B_V4, B_V6, "52:54:00:e2:e0:02")));
        ok(call(request("StartContainer").add("id", A)));
        ok(call(request("StartContainer").add("id", B)));

        assertEquals("running", inVm("virsh -c lxc:///system domstate " + domain(A)).trim());
        assertEquals("running", inVm("virsh -c lxc:///system domstate " + domain(B)).trim());
        String eth0 = inContainer(A, "ip -o addr show dev eth0");
        assertTrue(eth0.contains(A_V4 + "/32"), eth0);
        assertTrue(eth0.contains(A_V6 + "/128"), eth0);
        assertTrue(inContainer(A, "ip -o link show dev eth0").contains("52:54:00:e2:e0:01"));
    }

    @Test
    @Order(3)
    void connectedContainersPingEachOther() {
        ok(call(request("Connect").add("id1", A).add("id2", B)));
        assertPings(A, B_V4);
        assertPings(A, B_V6);
        assertPings(B, A_V4);
        assertPings(B, A_V6);
    }

    @Test
    @Order(4)
    void aStopOfTheAgentServiceLeavesTheContainersRunning() throws InterruptedException {
        String initBefore = inVm(initPid(A));
        inVm("systemctl restart intervirt-agent.service");
        client.close();
        connectWithRetry(URI.create(required("intervirt.e2e.url")));
        assertEquals(initBefore, inVm(initPid(A)), "container " + A + " was restarted with the agent");
        assertEquals("running", inVm("virsh -c lxc:///system domstate " + domain(B)).trim());
        assertPings(A, B_V4);
        assertEquals("Version", call(request("Command").add("command", "version")).last().getString("type"));
    }

    @Test
    @Order(5)
    void disconnectedContainersDoNotPing() {
        ok(call(request("Disconnect").add("id1", A).add("id2", B)));
        assertNoPing(A, B_V4);
        assertNoPing(A, B_V6);
        assertNoPing(B, A_V4);
    }

    @Test
    @Order(6)
    void portForwardReachesTheContainerFromInsideTheVm() {
        ok(call(request("AddPortForwarding").add("id", A).add("internalPort", CONTAINER_PORT)
                .add("externalPort", GUEST_PORT).add("protocol", "tcp")));
        // A one-shot server in A's network namespace; a client on the VM's loopback, then one
        // on the VM's network (the private libvirtd's namespace: the VM's LAN) at its uplink address.
        String served = inVm(nsenter(A) + " python3 -c '" + ONE_SHOT_SERVER + "' & sleep 3;"
                + " python3 -c '" + CLIENT + "' 127.0.0.1 " + GUEST_PORT + "; wait");
        assertTrue(served.contains("e2e-forward-ok"), "through the VM's loopback: " + served);

        String uplink = inVm("ip -4 -o route get 1.1.1.1 | sed -n 's/.* src \\([0-9.]*\\).*/\\1/p'").trim();
        assertFalse(uplink.isEmpty(), "no uplink address in the VM");
        CompletableFuture<ProcessRunner.Result> server = CompletableFuture.supplyAsync(
                () -> inVmResult(nsenter(A) + " python3 -c '" + ONE_SHOT_SERVER + "'"));
        ProcessRunner.Result fromLan = ProcessRunner.exec(List.of(neighbourExec,
                "python3 -c \"$(printf '" + PATIENT_CLIENT.replace("\n", "\\n") + "')\" " + uplink + " " + GUEST_PORT),
                null, 60);
        assertTrue(fromLan.stdout().contains("e2e-forward-ok"),
                "from the VM's network to " + uplink + ":" + GUEST_PORT + ": " + fromLan.stdout() + fromLan.stderr());
        assertTrue(server.join().ok(), "the server in " + A + " saw no connection");

        ok(call(request("RemovePortForwarding").add("externalPort", GUEST_PORT).add("protocol", "tcp")));
        String refused = inVmResult(nsenter(A) + " python3 -c '" + ONE_SHOT_SERVER + "' & srv=$!; sleep 3;"
                + " python3 -c '" + CLIENT + "' 127.0.0.1 " + GUEST_PORT + "; rc=$?; kill $srv; exit $rc").stdout();
        assertFalse(refused.contains("e2e-forward-ok"), "the forward is removed but still works: " + refused);
    }

    @Test
    @Order(7)
    void removedContainersLeaveNothingInTheVm() {
        ok(call(request("RemoveContainer").add("id", A)));
        ok(call(request("RemoveContainer").add("id", B)));
        String domains = inVm("virsh -c lxc:///system list --all --name");
        assertFalse(domains.contains(domain(A)) || domains.contains(domain(B)), domains);
        assertEquals("", inVm("ls /var/lib/intervirt/containers/ 2>/dev/null | grep -E '^e2e-' || true").trim());
        assertEquals("", inVm("mount | grep /var/lib/intervirt/containers/e2e- || true").trim());
    }

    // A server that accepts one connection within 20 s, says who it is, and exits.
    private static final String ONE_SHOT_SERVER = "import socket; s=socket.socket(socket.AF_INET6); "
            + "s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0); "
            // the previous server's connection may linger in TIME_WAIT on the same port
            + "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind((\"::\", " + CONTAINER_PORT + ")); "
            + "s.listen(1); s.settimeout(20); c,_=s.accept(); c.sendall(b\"e2e-forward-ok\\n\"); c.close()";
    private static final String CLIENT = "import socket,sys; "
            + "c=socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10); print(c.recv(100).decode())";
    // The same, retrying refused connections for 20 s (the server may still be starting).
    private static final String PATIENT_CLIENT = "import socket,sys,time\n"
            + "for i in range(40):\n"
            + "    try:\n"
            + "        c=socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10); break\n"
            + "    except ConnectionRefusedError:\n"
            + "        time.sleep(0.5)\n"
            + "print(c.recv(100).decode())";

    private static JsonObjectBuilder add(String id, String v4, String v6, String mac) {
        return request("AddContainer").add("id", id).add("ipv4", v4).add("ipv6", v6).add("mac", mac)
                .add("internet", false).add("image", "debian/13");
    }

    private static String domain(String id) {
        return "intervirt-" + id;
    }

    /** The shell words that enter a container's network namespace (its init found via libvirt's pid file). */
    private static String nsenter(String id) {
        return "c=$(cat /run/libvirt/lxc/" + domain(id) + ".pid); "
                + "nsenter -t $(cut -d' ' -f1 /proc/$c/task/$c/children) -n";
    }

    /** A script printing the pid of the container's init. */
    private static String initPid(String id) {
        return "c=$(cat /run/libvirt/lxc/" + domain(id) + ".pid); cut -d' ' -f1 /proc/$c/task/$c/children";
    }

    private static String inContainer(String id, String command) {
        return inVm(nsenter(id) + " " + command);
    }

    private static void assertPings(String from, String to) {
        ProcessRunner.Result r = inVmResult("for i in 1 2 3; do " + nsenter(from) + " ping -c 1 -W 3 " + to
                + " && exit 0; sleep 1; done; exit 1");
        assertTrue(r.ok(), from + " does not ping " + to + ": " + r.stdout() + r.stderr());
    }

    private static void assertNoPing(String from, String to) {
        ProcessRunner.Result r = inVmResult(nsenter(from) + " ping -c 2 -W 2 " + to);
        assertFalse(r.ok(), from + " still pings " + to + ": " + r.stdout());
    }

    private static String inVm(String script) {
        ProcessRunner.Result r = inVmResult(script);
        assertTrue(r.ok(), () -> "in the VM: " + script + " failed (" + r.exitCode() + "): " + r.stderr() + r.stdout());
        return r.stdout();
    }

    private static ProcessRunner.Result inVmResult(String script) {
        return ProcessRunner.exec(List.of(guestExec, script), null, 120);
    }

    private static Exchange call(JsonObjectBuilder request) {
        return client.call(request.build(), CALL);
    }

    private static void ok(Exchange e) {
        assertTrue(e.ok(), e::toString);
    }

    private static String required(String property) {
        String value = System.getProperty(property);
        assertNotNull(value, "set -D" + property + " (./intervirt e2e does)");
        assertFalse(value.isBlank(), "-D" + property + " is empty");
        return value;
    }
}
