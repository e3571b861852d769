package dev.intervirt.agent.container;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.model.Bind;
import com.github.dockerjava.api.model.ExposedPort;
import com.github.dockerjava.api.model.HostConfig;
import com.github.dockerjava.api.model.PortBinding;
import com.github.dockerjava.api.model.Ports;
import com.github.dockerjava.api.model.RestartPolicy;
import com.github.dockerjava.api.model.Volume;
import com.jcraft.jsch.ChannelSftp;
import dev.intervirt.agent.support.AgentClient;
import dev.intervirt.agent.support.DockerOverSsh;
import dev.intervirt.agent.support.HostCommands;
import dev.intervirt.agent.support.LiveAgent;
import dev.intervirt.agent.support.OfflineDockerImage;
import dev.intervirt.agent.support.SubprocessAgent;
import dev.intervirt.agent.support.TestAgent;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.Supplier;

import static dev.intervirt.agent.support.AgentClient.request;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Docker inside {@code intervirtos/current} as the desktop client uses it (issue 13), on a real
 * agent process with internet access off: docker-java over SSH (a forward to the computer's
 * port 22, root with the empty password, {@code docker system dial-stdio}) loads an image
 * built here (no registry is reachable), creates a container with {@code -p 8080:80}, a volume
 * under {@code /opt/intervirt/<name>/}, env, hostname and restart policy {@code unless-stopped}
 * as the client's DockerManager does, and starts it. A linked computer fetches the page from
 * the first computer's address, the guest through a forward; the container comes back after
 * the computer restarts and keeps serving across an agent restart.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DockerIT {

    static final String OS = "ivdk1";
    static final String OS_IPV4 = "10.213.31.2";
    static final String PEER = "ivdk2";
    static final String PEER_IPV4 = "10.213.32.3";
    static final String NAME = "ivweb";
    static final String IMAGE = OfflineDockerImage.IMAGE;
    static final String PAGE = "served by busybox httpd from a volume, offline";
    static final Path LOG = Path.of("target/docker-it-agent.log");

    static SubprocessAgent agent;
    static AgentClient client;
    static int sshPort;
    static int webPort;

    @BeforeAll
    static void twoLinkedComputersWithForwards() throws Exception {
        TestAgent.wipeHost();
        Files.deleteIfExists(LOG);
        agent = SubprocessAgent.start(LOG);
        client = agent.client();
        ok(request("AddContainer").add("id", OS).add("ipv4", OS_IPV4).add("ipv6", "fd13:31::2")
                .add("mac", "02:00:00:13:31:02").add("internet", false).add("image", "intervirtos/current"));
        ok(request("AddContainer").add("id", PEER).add("ipv4", PEER_IPV4).add("ipv6", "fd13:32::3")
                .add("mac", "02:00:00:13:32:03").add("internet", false).add("image", "debian/trixie"));
        ok(request("Connect").add("id1", OS).add("id2", PEER));
        sshPort = freePort();
        webPort = freePort();
        ok(request("AddPortForwarding").add("id", OS).add("internalPort", 22).add("externalPort", sshPort).add("protocol", "tcp"));
        ok(request("AddPortForwarding").add("id", OS).add("internalPort", 8080).add("externalPort", webPort).add("protocol", "tcp"));
        ok(request("StartContainer").add("id", PEER));
    }

    @AfterAll
    static void tearDown() {
        LiveAgent.closeAll(client, agent);
        TestAgent.wipeHost();
    }

    @Test
    @Order(1)
    void theClientsDockerManagerFlowWorksOverSshOffline() throws Exception {
        long t0 = System.nanoTime();
        ok(request("StartContainer").add("id", OS));
        long started = System.nanoTime();
        try (DockerOverSsh ssh = awaitDocker()) {
            long dockerUp = System.nanoTime();
            DockerClient docker = ssh.docker();
            // The client makes the volume directory over SFTP before creating the container.
            ChannelSftp sftp = ssh.sftp();
            OfflineDockerImage.mkdirs(sftp, "/opt/intervirt/" + NAME);
            sftp.put(new ByteArrayInputStream((PAGE + "\n").getBytes(StandardCharsets.UTF_8)), "/opt/intervirt/" + NAME + "/index.html");
            sftp.disconnect();

            // docker load (docker-java 3.7.0's createImageCmd, i.e. docker import, sends "{}" instead of the tar).
            docker.loadImageCmd(new ByteArrayInputStream(OfflineDockerImage.archive())).exec();
            ExposedPort http = ExposedPort.tcp(80);
            HostConfig host = HostConfig.newHostConfig()
                    .withPortBindings(new PortBinding(Ports.Binding.bindPort(8080), http))
                    .withBinds(new Bind("/opt/intervirt/" + NAME + "/", new Volume("/www")))
                    .withRestartPolicy(RestartPolicy.unlessStoppedRestart());
            String id = docker.createContainerCmd(IMAGE + ":1").withName(NAME).withHostConfig(host)
                    .withExposedPorts(http).withEnv("GREETING=hello").withHostName("web")
                    .withCmd("/bin/httpd", "-f", "-p", "80", "-h", "/www").exec().getId();
            docker.startContainerCmd(id).exec();
            long running = System.nanoTime();
            assertHealthy(docker, id);
            System.out.printf("DockerIT: StartContainer reply %.2f s, dockerd answering over SSH after %.2f s, "
                            + "first container (load + create + start) running after %.2f s%n",
                    (started - t0) / 1e9, (dockerUp - started) / 1e9, (running - started) / 1e9);
            System.out.println("DockerIT: " + output(ssh.exec("docker info --format 'storage {{.Driver}}, cgroup driver "
                    + "{{.CgroupDriver}} v{{.CgroupVersion}}'")) + "; RSS of dockerd " + output(ssh.exec("ps -o rss= -C dockerd"))
                    + " KiB, containerd " + output(ssh.exec("ps -o rss= -C containerd")) + " KiB");
        }
        assertPageFromPeerAndGuest();
    }

    @Test
    @Order(2)
    void theCapabilitiesAreLibvirtsDefaultPlusMknodOnly() {
        String status = HostCommands.ok("cat", "/proc/" + HostCommands.initPid(TestAgent.OWNER + "-" + OS) + "/status");
        String bnd = status.lines().filter(l -> l.startsWith("CapBnd:")).findFirst().orElseThrow().split("\\s+")[1];
        long caps = Long.parseUnsignedLong(bnd, 16);
        assertTrue((caps & (1L << 27)) != 0, "cap_mknod granted: " + bnd);
        for (int dropped : new int[]{16, 24, 25, 30, 33}) { // sys_module, sys_resource, sys_time, audit_control, mac_admin
            assertEquals(0, caps & (1L << dropped), "capability " + dropped + " stays dropped: " + bnd);
        }
        String peer = HostCommands.ok("cat", "/proc/" + HostCommands.initPid(TestAgent.OWNER + "-" + PEER) + "/status");
        String peerBnd = peer.lines().filter(l -> l.startsWith("CapBnd:")).findFirst().orElseThrow().split("\\s+")[1];
        assertEquals(0, Long.parseUnsignedLong(peerBnd, 16) & (1L << 27), "a computer without Docker gets no mknod: " + peerBnd);
    }

    @Test
    @Order(2)
    void dockersNetworkStaysInsideTheComputer() throws Exception {
        try (DockerOverSsh ssh = awaitDocker()) {
            String mac = output(ssh.exec("cat /sys/class/net/docker0/address"));
            assertFalse(HostCommands.ok("ip", "-o", "link").contains(mac), "docker0 (" + mac + ") is the computer's, not the guest's");
            // From a Docker container: the computer's own published port answers, and the linked
            // computer is reached, since Docker's NAT makes the traffic the computer's own …
            assertTrue(output(ssh.exec(fromDocker("/", "172.17.0.1", 8080, 5))).contains(PAGE));
            assertTrue(peerReceives(ssh), "a request from a Docker container reached the linked computer");
            // … but no guest service is reached, as from the computer itself.
            String agentPort = ssh.exec(fromDocker("/", "169.254.0.1", agent.port(), 3));
            assertFalse(agentPort.startsWith("0:") || agentPort.contains("HTTP/"), "the agent's port from a Docker container: " + agentPort);
        }
    }

    @Test
    @Order(3)
    void theContainerComesBackAfterTheComputerRestarts() throws Exception {
        ok(request("StopContainer").add("id", OS));
        long t0 = System.nanoTime();
        ok(request("StartContainer").add("id", OS));
        try (DockerOverSsh ssh = awaitDocker()) {
            String id = awaitRunning(ssh.docker());
            System.out.printf("DockerIT: after a restart of the computer, the container runs again %.2f s after StartContainer%n",
                    (System.nanoTime() - t0) / 1e9);
            assertHealthy(ssh.docker(), id);
        }
        assertPageFromPeerAndGuest();
    }

    @Test
    @Order(4)
    void dockerKeepsServingAcrossAnAgentRestart() throws Exception {
        int initBefore = HostCommands.initPid(TestAgent.OWNER + "-" + OS);
        client.close();
        agent.kill();
        agent = SubprocessAgent.start(LOG);
        client = agent.client();
        assertEquals(initBefore, HostCommands.initPid(TestAgent.OWNER + "-" + OS), "the computer kept running");
        assertPageFromPeerAndGuest();
        try (DockerOverSsh ssh = awaitDocker()) {
            assertHealthy(ssh.docker(), awaitRunning(ssh.docker()));
        }
    }

    /**
     * An HTTP request sent by busybox nc inside the Docker container (a static busybox's wget
     * crashes without the C library's NSS files: exit 139).
     */
    static String fromDocker(String path, String address, int port, int connectTimeout) {
        return "docker exec " + NAME + " sh -c \"printf 'GET " + path + " HTTP/1.0\\r\\n\\r\\n' | nc -w "
                + connectTimeout + " " + address + " " + port + "\"";
    }

    /** A listener in the linked computer sees a request a Docker container sent to it. */
    static boolean peerReceives(DockerOverSsh ssh) throws Exception {
        for (int attempt = 0; attempt < 5; attempt++) {
            // Ends by itself (a killed nsenter would leave nc running inside, holding the port and the pipe).
            Process listener = HostCommands.startInside(TestAgent.OWNER + "-" + PEER, "timeout", "4", "nc", "-l", "9000");
            Thread.sleep(500);
            ssh.exec(fromDocker("/from-docker", PEER_IPV4, 9000, 2));
            listener.waitFor();
            String seen = new String(listener.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (seen.contains("GET /from-docker")) {
                return true;
            }
        }
        return false;
    }

    /** From the linked computer to the first one's address, and from the guest through the forward. */
    static void assertPageFromPeerAndGuest() throws Exception {
        String fromPeer = eventually(() -> {
            var r = HostCommands.inside(TestAgent.OWNER + "-" + PEER, "sh", "-c",
                    "printf 'GET /index.html HTTP/1.0\\r\\n\\r\\n' | nc -w 5 " + OS_IPV4 + " 8080");
            return r.stdout().contains(PAGE) ? r.stdout() : null;
        });
        assertTrue(fromPeer.startsWith("HTTP/1.") && fromPeer.contains(" 200 "), fromPeer);
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        String fromGuest = eventually(() -> {
            try {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + webPort + "/"))
                        .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
                return r.statusCode() == 200 ? r.body() : null;
            } catch (IOException e) {
                return null;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return null;
            }
        });
        assertEquals(PAGE, fromGuest.trim());
    }

    static void assertHealthy(DockerClient docker, String id) {
        InspectContainerResponse c = docker.inspectContainerCmd(id).exec();
        assertTrue(Boolean.TRUE.equals(c.getState().getRunning()), "running: " + c.getState());
        assertEquals(0L, c.getState().getExitCodeLong(), "the client's health check: " + c.getState());
        assertEquals("web", c.getConfig().getHostName());
        assertTrue(List.of(c.getConfig().getEnv()).contains("GREETING=hello"));
        assertEquals("unless-stopped", c.getHostConfig().getRestartPolicy().getName());
    }

    /** The container by name (as the client's getContainer), once Docker has restarted it. */
    static String awaitRunning(DockerClient docker) {
        return eventually(() -> docker.listContainersCmd().withShowAll(true).withNameFilter(List.of(NAME)).exec().stream()
                .filter(c -> "running".equals(c.getState())).map(c -> c.getId()).findFirst().orElse(null));
    }

    /** Logs in over the forward and waits until dockerd answers (the computer boots meanwhile). */
    static DockerOverSsh awaitDocker() throws Exception {
        return DockerOverSsh.await(sshPort, Duration.ofSeconds(90), Duration.ofMillis(200));
    }

    static <T> T eventually(Supplier<T> attempt) {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (true) {
            T value = attempt.get();
            if (value != null) {
                return value;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within 60 s");
            }
            try {
                Thread.sleep(250);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
    }

    /** The output of {@link DockerOverSsh#exec} of a command that must succeed. */
    static String output(String exitAndOutput) {
        assertTrue(exitAndOutput.startsWith("0:"), exitAndOutput);
        return exitAndOutput.substring(2).trim();
    }

    static void ok(jakarta.json.JsonObjectBuilder request) {
        AgentClient.Exchange e = client.call(request);
        assertTrue(e.ok(), e.toString());
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
