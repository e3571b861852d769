package dev.intervirt.agent.e2e;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.model.Bind;
import com.github.dockerjava.api.model.ExposedPort;
import com.github.dockerjava.api.model.HostConfig;
import com.github.dockerjava.api.model.PortBinding;
import com.github.dockerjava.api.model.Ports;
import com.github.dockerjava.api.model.RestartPolicy;
import com.github.dockerjava.api.model.Volume;
import com.jcraft.jsch.ChannelSftp;
import com.jcraft.jsch.JSchException;
import dev.intervirt.agent.support.AgentClient;
import dev.intervirt.agent.support.AgentClient.Exchange;
import dev.intervirt.agent.support.DockerOverSsh;
import dev.intervirt.agent.support.JschLogin;
import dev.intervirt.agent.support.LiveAgent;
import dev.intervirt.agent.support.OfflineDockerImage;
import jakarta.json.JsonObjectBuilder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static dev.intervirt.agent.support.AgentClient.request;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The appliance disk as the desktop client uses it: {@code ./intervirt appliance --test} boots
 * a copy of target/appliance/intervirt-appliance.qcow2 with the client's exact QEMU command line
 * ({@link ClientQemu}), and this test drives it only from where the client stands: the
 * forwarded agent port, QMP, and SSH logins into computers over forwards made the client's way
 * (QMP hostfwd_add host P → guest externalPort, then AddPortForwarding externalPort → 22).
 * There is no shell into the appliance itself; what happens inside the computers is seen
 * through their own sshd (intervirtos/current: root with an empty password).
 *
 * <p>Properties: {@code intervirt.appliance.disk} (the copy to boot), {@code .qemu},
 * {@code .serialLog}, {@code .pidFile}, {@code .agentPort} (55436), {@code .qmpPort} (55437),
 * {@code .bootSeconds} (limit for QEMU start → version), {@code intervirt.e2e.expectedVersion}.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ApplianceDiskE2E {

    private static final String A = "computer-101";
    private static final String B = "computer-102";
    private static final String A_V4 = "192.168.7.12";
    private static final String B_V4 = "192.168.9.34";
    private static final String IMAGE = "intervirtos/current";
    /** Guest ports of the computers' SSH forwards (the forwards' externalPort). */
    private static final int A_GUEST_PORT = 2201;
    private static final int B_GUEST_PORT = 2202;
    /** The client's timeout per message. */
    private static final Duration CLIENT_TIMEOUT = Duration.ofSeconds(10);
    private static final Duration CALL = Duration.ofSeconds(60);
    private static final Duration CLIENT_SHUTDOWN_WAIT = Duration.ofSeconds(30);
    private static final String WEB_PAGE = "served by busybox httpd in Docker in the appliance";

    private static ClientQemu vm;
    private static AgentClient client;
    private static int aHostPort;
    private static int bHostPort;
    private static final List<String> slowReplies = new ArrayList<>();

    @BeforeAll
    static void ports() throws IOException {
        aHostPort = freePort();
        bHostPort = freePort();
    }

    @AfterAll
    static void stopEverything() {
        LiveAgent.closeAll(client, vm);
        System.out.println("appliance-test: replies slower than the client's 10 s: "
                + (slowReplies.isEmpty() ? "none" : slowReplies));
    }

    @Test
    @Order(1)
    void bootsWithTheClientsCommandLineAndAnswersVersion() throws Exception {
        double seconds = boot("first boot");
        assertTrue(seconds <= Long.getLong("intervirt.appliance.bootSeconds", 240),
                "QEMU start → version took " + seconds + " s");
        Exchange e = call(request("Command").add("command", "version"));
        assertEquals("Version", e.last().getString("type"), e::toString);
        assertEquals(required("intervirt.e2e.expectedVersion").replace("-SNAPSHOT", ""),
                e.last().getString("version").replace("-SNAPSHOT", ""), e::toString);
    }

    @Test
    @Order(2)
    void twoComputersStartLinkAndPingEachOtherThroughTheClientsForwards() throws Exception {
        ok(call(add(A, A_V4, "a:5b:2:67:c:1")));          // the client's unpadded MACs
        ok(call(add(B, B_V4, "a:5b:2:67:c:2")));
        ok(call(request("StartContainer").add("id", A)));
        ok(call(request("StartContainer").add("id", B)));
        ok(call(request("Connect").add("id1", A).add("id2", B)));
        forwardSsh(A, aHostPort, A_GUEST_PORT);
        forwardSsh(B, bHostPort, B_GUEST_PORT);

        String a = sshUntilUp(aHostPort, "hostname; ip -o -4 addr show dev eth0");
        assertTrue(a.contains(A_V4 + "/32"), "the login on A's forward is not in A: " + a);
        String b = sshUntilUp(bHostPort, "ip -o -4 addr show dev eth0");
        assertTrue(b.contains(B_V4 + "/32"), "the login on B's forward is not in B: " + b);
        assertPings(aHostPort, B_V4);
        assertPings(bHostPort, A_V4);
    }

    /**
     * The client's Docker way on IntervirtOS, inside the appliance (its kernel modules, cgroup v2
     * and systemd in the computer): docker-java over SSH's dial-stdio loads an image made here
     * (no registry), runs it with a published port and a volume under /opt/intervirt, and the
     * linked computer fetches the page. Under the emulated CPU dockerd takes minutes to come up.
     */
    @Test
    @Order(3)
    void dockerInIntervirtosServesAPublishedPortToTheLinkedComputer() throws Exception {
        long t0 = System.nanoTime();
        // Under the emulated CPU dockerd takes minutes to come up after the computer.
        try (DockerOverSsh ssh = DockerOverSsh.await(aHostPort, Duration.ofMinutes(8), Duration.ofSeconds(2))) {
            double up = secondsSince(t0);
            DockerClient docker = ssh.docker();
            ChannelSftp sftp = ssh.sftp();
            OfflineDockerImage.mkdirs(sftp, "/opt/intervirt/web");
            sftp.put(new ByteArrayInputStream((WEB_PAGE + "\n").getBytes(StandardCharsets.UTF_8)), "/opt/intervirt/web/index.html");
            sftp.disconnect();
            docker.loadImageCmd(new ByteArrayInputStream(OfflineDockerImage.archive())).exec();
            ExposedPort http = ExposedPort.tcp(80);
            HostConfig host = HostConfig.newHostConfig()
                    .withPortBindings(new PortBinding(Ports.Binding.bindPort(8080), http))
                    .withBinds(new Bind("/opt/intervirt/web/", new Volume("/www")))
                    .withRestartPolicy(RestartPolicy.unlessStoppedRestart());
            String id = docker.createContainerCmd(OfflineDockerImage.IMAGE + ":1").withName("web").withHostConfig(host)
                    .withExposedPorts(http).withCmd("/bin/httpd", "-f", "-p", "80", "-h", "/www").exec().getId();
            docker.startContainerCmd(id).exec();
            assertTrue(Boolean.TRUE.equals(docker.inspectContainerCmd(id).exec().getState().getRunning()));
            System.out.printf("appliance-test: dockerd answered over SSH %.0f s after the computers were up, "
                    + "the container ran %.0f s after that%n", up, secondsSince(t0) - up);
        }
        assertPageFromB();
    }

    @Test
    @Order(4)
    void theGuestsOwnPort22OffersNoLogin() throws Exception {
        // The client's mistaken form: host P → guest internalPort (22) instead of externalPort.
        int port = freePort();
        vm.hostfwdAdd(port, 22);
        try {
            String banner = firstBytes(port);
            assertFalse(banner.startsWith("SSH-"), "the appliance itself answers SSH on its port 22: " + banner);
            JSchException refused = assertThrows(JSchException.class, () -> ssh(port, "id"));
            assertNotNull(refused.getMessage());
        } finally {
            vm.hostfwdRemove(port);
        }
    }

    @Test
    @Order(5)
    void shutdownEndsQemuByItselfWithinTheClientsWait() throws Exception {
        long t0 = System.nanoTime();
        ok(call(request("Command").add("command", "shutdown")));
        assertTrue(vm.exitsWithin(CLIENT_SHUTDOWN_WAIT),
                "QEMU still runs " + CLIENT_SHUTDOWN_WAIT.toSeconds() + " s after shutdown (the client kills it then)");
        System.out.printf("appliance-test: shutdown → QEMU exit %.1f s (exit %d)%n", secondsSince(t0), vm.exitValue());
        client.close();
        client = null;
        vm.close();
        vm = null;
    }

    @Test
    @Order(6)
    void aSecondBootBringsComputersLinksAndForwardsBack() throws Exception {
        boot("second boot");
        // QEMU's forwards die with QEMU; the client adds them again. The agent's are stored.
        vm.hostfwdAdd(aHostPort, A_GUEST_PORT);
        vm.hostfwdAdd(bHostPort, B_GUEST_PORT);
        String a = sshUntilUp(aHostPort, "ip -o -4 addr show dev eth0");
        assertTrue(a.contains(A_V4 + "/32"), a);
        assertPings(aHostPort, B_V4);
        assertPings(bHostPort, A_V4);
        // Docker's restart policy (unless-stopped) brings the published container back.
        assertPageFromB();
    }

    @Test
    @Order(7)
    void removedComputersAndAFinalShutdown() throws Exception {
        ok(call(request("RemoveContainer").add("id", A)));
        ok(call(request("RemoveContainer").add("id", B)));
        ok(call(request("Command").add("command", "shutdown")));
        assertTrue(vm.exitsWithin(CLIENT_SHUTDOWN_WAIT), "QEMU still runs after the final shutdown");
    }

    /** Starts QEMU, waits for QMP "running" and the agent's version reply; returns the seconds. */
    private static double boot(String what) throws Exception {
        vm = ClientQemu.start(required("intervirt.appliance.qemu"), Path.of(required("intervirt.appliance.disk")),
                Integer.getInteger("intervirt.appliance.agentPort", 55436),
                Integer.getInteger("intervirt.appliance.qmpPort", 55437),
                Path.of(required("intervirt.appliance.serialLog")), Path.of(required("intervirt.appliance.pidFile")));
        vm.awaitRunning(Duration.ofSeconds(60));
        double running = secondsSince(vm.startedNanos());
        URI url = URI.create("ws://127.0.0.1:" + Integer.getInteger("intervirt.appliance.agentPort", 55436)
                + "/containerManagement");
        long deadline = System.nanoTime() + Duration.ofMinutes(6).toNanos();
        while (true) {
            assertTrue(vm.alive(), "QEMU exited during the " + what);
            // QEMU accepts on the forwarded port before the guest listens; a WebSocket handshake
            // would then wait for its own timeout. An HTTP answer says the agent is there.
            if (!answersHttp(url.getPort())) {
                assertTrue(System.nanoTime() < deadline, "no agent within 6 minutes of the " + what);
                Thread.sleep(250);
                continue;
            }
            try {
                client = AgentClient.connect(url);
                Exchange e = client.call(request("Command").add("command", "version").build(), CLIENT_TIMEOUT);
                if ("Version".equals(e.last().getString("type", ""))) {
                    break;
                }
            } catch (RuntimeException e) {
                if (client != null) {
                    client.close();
                    client = null;
                }
            }
            assertTrue(System.nanoTime() < deadline, "no version reply within 6 minutes of the " + what);
            Thread.sleep(500);
        }
        double seconds = secondsSince(vm.startedNanos());
        System.out.printf("appliance-test: %s: QMP running %.1f s, agent answers version %.1f s after QEMU start%n",
                what, running, seconds);
        return seconds;
    }

    /** The client's two steps: QEMU forward host P → guest externalPort, then the agent's forward to 22. */
    private static void forwardSsh(String id, int hostPort, int guestPort) {
        vm.hostfwdAdd(hostPort, guestPort);
        ok(call(request("AddPortForwarding").add("id", id).add("internalPort", 22)
                .add("externalPort", guestPort).add("protocol", "tcp")));
    }

    private static void assertPings(int sshPort, String to) throws Exception {
        String out = ssh(sshPort, "for i in 1 2 3 4 5; do ping -c 1 -W 3 " + to + " && exit 0; sleep 1; done; exit 1");
        assertTrue(out.contains("1 received") || out.contains("1 packets received"), out);
    }

    /** B fetches A's published page (curl of the IntervirtOS image), retried while Docker starts it. */
    private static void assertPageFromB() throws Exception {
        long deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos();
        String page = "";
        while (!page.contains(WEB_PAGE) && System.nanoTime() < deadline) {
            JschLogin.Output r = JschLogin.rootOnLoopback(bHostPort, 20_000)
                    .runMerged("curl -s -m 10 http://" + A_V4 + ":8080/index.html", Duration.ofSeconds(60));
            page = r.out();
            if (!page.contains(WEB_PAGE)) {
                Thread.sleep(2000);
            }
        }
        assertEquals(WEB_PAGE, page.trim(), "B fetches the page A's Docker container publishes on 8080");
    }

    /** SSH as root with an empty password, retried while the computer's sshd starts (TCG). */
    private static String sshUntilUp(int port, String command) throws Exception {
        long deadline = System.nanoTime() + Duration.ofMinutes(4).toNanos();
        while (true) {
            try {
                return ssh(port, command);
            } catch (JSchException e) {
                if (System.nanoTime() > deadline || String.valueOf(e.getMessage()).contains("Auth fail")) {
                    throw e;
                }
                Thread.sleep(1000);
            }
        }
    }

    private static String ssh(int port, String command) throws Exception {
        JschLogin.Output result = JschLogin.rootOnLoopback(port, 20_000).runMerged(command, Duration.ofSeconds(60));
        assertEquals(0, result.exit(), "'" + command + "' on port " + port + ": " + result.out());
        return result.out();
    }

    /** True when something answers HTTP on the port within 2 s. */
    private static boolean answersHttp(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 2000);
            s.setSoTimeout(2000);
            s.getOutputStream().write("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            byte[] buf = new byte[5];
            int n = s.getInputStream().readNBytes(buf, 0, 5);
            return n == 5 && new String(buf, StandardCharsets.US_ASCII).equals("HTTP/");
        } catch (IOException e) {
            return false;
        }
    }

    /** What a TCP client gets first on the port (empty when the connection is closed or reset). */
    private static String firstBytes(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
            s.setSoTimeout(10_000);
            InputStream in = s.getInputStream();
            byte[] buf = new byte[64];
            int n = in.read(buf);
            return n <= 0 ? "" : new String(buf, 0, n, StandardCharsets.US_ASCII);
        } catch (IOException e) {
            return "";
        }
    }

    private static JsonObjectBuilder add(String id, String v4, String mac) {
        return request("AddContainer").add("id", id).add("ipv4", v4).add("ipv6", "fd3:a:1f::" + id.substring(9))
                .add("mac", mac).add("internet", false).add("image", IMAGE);
    }

    private static Exchange call(JsonObjectBuilder request) {
        JsonObjectBuilder r = request;
        Exchange e = client.call(r.build(), CALL);
        if (e.millis() > CLIENT_TIMEOUT.toMillis()) {
            slowReplies.add(e.last() + " " + e.millis() + " ms");
        }
        return e;
    }

    private static void ok(Exchange e) {
        assertTrue(e.ok(), e::toString);
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private static double secondsSince(long nanos) {
        return (System.nanoTime() - nanos) / 1e9;
    }

    private static String required(String property) {
        String value = System.getProperty(property);
        assertNotNull(value, "set -D" + property + " (./intervirt appliance --test does)");
        assertFalse(value.isBlank(), "-D" + property + " is empty");
        return value;
    }
}
