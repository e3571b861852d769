package dev.intervirt.agent.guest;

import dev.intervirt.agent.app.AgentConfig;
import dev.intervirt.agent.support.LiveAgent;
import dev.intervirt.agent.support.TestAgent;
import jakarta.json.Json;
import jakarta.json.JsonObject;
import jakarta.json.JsonObjectBuilder;
import jakarta.websocket.ClientEndpointConfig;
import jakarta.websocket.ContainerProvider;
import jakarta.websocket.Endpoint;
import jakarta.websocket.EndpointConfig;
import jakarta.websocket.MessageHandler;
import jakarta.websocket.Session;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.StringReader;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;

import static dev.intervirt.agent.support.AgentClient.request;
import static dev.intervirt.agent.support.HostCommands.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * update, shutdown and reboot on a real agent with real containers, over a real WebSocket.
 * The guest's own commands are harmless scripts that record when they ran; the containers'
 * updates are real apt runs against a local package source holding a newer version of a
 * package the test installed before (ivdemo 1.0 → 2.0).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class GuestCommandsIT {

    static final Path WORK = Path.of("/tmp", TestAgent.OWNER + "-guest-it");
    static final Path POWER_LOG = WORK.resolve("power.log");
    static final Path UPGRADE_LOG = WORK.resolve("upgrade.log");
    static final Path REPO = WORK.resolve("repo");
    static final Path OLD_DEB = WORK.resolve("ivdemo_1.0_all.deb");

    @RegisterExtension
    static final LiveAgent live = new LiveAgent();

    static final UnaryOperator<AgentConfig> COMMANDS = c -> c.withGuestCommands(
            List.of(WORK.resolve("power.sh").toString(), "poweroff", TestAgent.OWNER),
            List.of(WORK.resolve("power.sh").toString(), "reboot", TestAgent.OWNER),
            List.of(WORK.resolve("upgrade.sh").toString()));

    @BeforeAll
    static void start() throws Exception {
        sh("rm", "-rf", WORK.toString());
        Files.createDirectories(REPO);
        script("power.sh", """
                #!/bin/sh
                # $1: poweroff|reboot, $2: the owner; records when it ran and how many of the owner's domains ran then
                n=$(virsh -c lxc:///system list --name | grep -c "^$2-")
                echo "$(date +%%s%%N) $1 $n" >> %s
                """.formatted(POWER_LOG));
        script("upgrade.sh", """
                #!/bin/sh
                # A stand-in for the guest's apt upgrade: its status lines, with a slow step in the middle.
                echo "$(date +%%s%%N) upgrade" >> %s
                echo "Reading package lists..."
                echo "dlstatus:guest:0:Retrieving guest packages"
                sleep 1
                echo "dlstatus:guest:100:Retrieved guest packages"
                sleep 6
                echo "pmstatus:guestpkg:50:Unpacking guestpkg (amd64)"
                sleep 1
                echo "pmstatus:guestpkg:100:Installed guestpkg (amd64)"
                """.formatted(UPGRADE_LOG));
        buildDeb("1.0", OLD_DEB);
        Path newDeb = REPO.resolve("ivdemo_2.0_all.deb");
        buildDeb("2.0", newDeb);
        byte[] deb = Files.readAllBytes(newDeb);
        String control = ok("dpkg-deb", "-f", newDeb.toString()).strip();
        String packages = control + "\nFilename: ./ivdemo_2.0_all.deb\nSize: " + deb.length + "\nSHA256: " + sha256(deb) + "\n\n";
        Files.writeString(REPO.resolve("Packages"), packages);
        byte[] p = packages.getBytes();
        Files.writeString(REPO.resolve("Release"), "Origin: intervirt-test\nLabel: intervirt-test\nSuite: ./\nDate: "
                + java.time.format.DateTimeFormatter.RFC_1123_DATE_TIME.format(java.time.ZonedDateTime.now(java.time.ZoneOffset.UTC))
                + "\nSHA256:\n "
                + sha256(p) + " " + p.length + " Packages\n");
        live.start(COMMANDS);
    }

    @AfterAll
    static void stop() {
        sh("rm", "-rf", WORK.toString());
    }

    static void script(String name, String text) throws Exception {
        Path p = WORK.resolve(name);
        Files.writeString(p, text);
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    static void buildDeb(String version, Path out) throws Exception {
        Path root = WORK.resolve("build-" + version);
        Files.createDirectories(root.resolve("DEBIAN"));
        Files.createDirectories(root.resolve("usr/share/ivdemo"));
        Files.writeString(root.resolve("DEBIAN/control"), "Package: ivdemo\nVersion: " + version
                + "\nArchitecture: all\nMaintainer: Intervirt tests <tests@intervirt.invalid>\nDescription: update test package\n");
        Files.writeString(root.resolve("usr/share/ivdemo/version"), version + "\n");
        ok("dpkg-deb", "--root-owner-group", "--build", root.toString(), out.toString());
    }

    static String sha256(byte[] data) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    }

    static JsonObjectBuilder add(String id, int n) {
        return request("AddContainer").add("id", id).add("ipv4", "10.79.0." + n).add("ipv6", "fd79::" + n)
                .add("mac", "02:79:00:00:00:0" + n).add("internet", false).add("image", "debian/13");
    }

    static Path rootOf(String id) {
        return Path.of("/proc", Integer.toString(initPid(live.agent().domain(id))), "root");
    }

    /** Points the container's apt at the local source only (or a missing one) and installs ivdemo 1.0. */
    static void prepareApt(String id, boolean brokenSource) throws Exception {
        Path root = rootOf(id);
        Files.createDirectories(root.resolve("srv/ivrepo"));
        for (String f : List.of("Packages", "Release", "ivdemo_2.0_all.deb")) {
            Files.copy(REPO.resolve(f), root.resolve("srv/ivrepo").resolve(f));
        }
        Files.copy(OLD_DEB, root.resolve("root/ivdemo_1.0_all.deb"));
        sh("sh", "-c", "rm -f " + root.resolve("etc/apt/sources.list.d") + "/*");
        Files.writeString(root.resolve("etc/apt/sources.list"), brokenSource
                ? "deb [trusted=yes] file:/srv/no-such-repo ./\n" : "deb [trusted=yes] file:/srv/ivrepo ./\n");
        var r = inside(live.agent().domain(id), "dpkg", "-i", "/root/ivdemo_1.0_all.deb");
        assertTrue(r.ok(), r.stderr() + r.stdout());
        assertEquals("1.0", ivdemoVersion(id));
    }

    static String ivdemoVersion(String id) {
        return inside(live.agent().domain(id), "dpkg-query", "-W", "-f", "${Version}", "ivdemo").stdout().strip();
    }

    @Test
    @Order(1)
    void updateUpgradesEveryContainerWithRealProgressAndReportsTheFailingOne() throws Exception {
        for (int i = 1; i <= 3; i++) {
            assertTrue(live.client().call(add("u" + i, i)).ok());
            assertTrue(live.client().call(request("StartContainer").add("id", "u" + i)).ok());
        }
        prepareApt("u1", false);
        prepareApt("u2", false);
        prepareApt("u3", true);
        assertTrue(live.client().call(request("StopContainer").add("id", "u2")).ok(), "u2 is updated while stopped");
        int u1Before = initPid(live.agent().domain("u1"));
        int u3Before = initPid(live.agent().domain("u3"));

        List<Timed> messages;
        try (TimedClient timed = TimedClient.connect(live.agent().port())) {
            messages = timed.call(request("Command").add("command", "update"), 600);
        }
        Timed last = messages.get(messages.size() - 1);
        System.out.printf("update: %d messages, %.1f s%n", messages.size(), (last.nanos - messages.get(0).nanos) / 1e9);
        messages.forEach(m -> System.out.println("  " + m.json));
        assertStream(messages);

        JsonObject fin = last.json;
        assertEquals(5, fin.getInt("code"), "one container failed: " + fin);
        String error = fin.getString("error");
        assertTrue(error.contains("u3") && error.contains("apt-get"), error);
        assertFalse(error.contains("u1") || error.contains("u2") || error.contains("guest"), "only u3 failed: " + error);
        assertTrue(messages.stream().anyMatch(m -> m.json.getString("output", "").contains("Unpacking ivdemo")),
                "apt's own status lines are the progress");
        assertTrue(messages.stream().anyMatch(m -> m.json.getString("output", "").contains("Unpacking guestpkg")),
                "the guest's upgrade command ran with its progress");
        assertTrue(Files.readString(UPGRADE_LOG).contains("upgrade"));

        assertEquals("2.0", ivdemoVersion("u1"), "u1 upgraded by a real apt run");
        assertEquals("running", domainState(live.agent().domain("u1")));
        assertNotEquals(u1Before, initPid(live.agent().domain("u1")), "u1 was restarted after its update");
        assertEquals("shut off", domainState(live.agent().domain("u2")), "u2 stopped again");
        assertEquals("2.0\n", Files.readString(TestAgent.STATE_DIR.resolve("containers/u2/upper/usr/share/ivdemo/version")),
                "u2 upgraded while it was started for the update");
        assertEquals("1.0", ivdemoVersion("u3"));
        assertEquals(u3Before, initPid(live.agent().domain("u3")), "a failed container is not restarted");
        assertTrue(live.client().call(request("StartContainer").add("id", "u2")).ok(), "u2's intent is stopped: it can be started");
    }

    /** Progress rises, status -1 on every message but the last, never silent for 5 s. */
    static void assertStream(List<Timed> messages) {
        assertTrue(messages.size() >= 3, "progress before the final message: " + messages);
        double lastProgress = -1;
        long previous = messages.get(0).sentNanos;
        for (int i = 0; i < messages.size(); i++) {
            Timed m = messages.get(i);
            long gap = m.nanos - previous;
            assertTrue(gap < 5_000_000_000L, "message " + i + " came " + gap / 1_000_000 + " ms after the one before: " + m.json);
            previous = m.nanos;
            if (i < messages.size() - 1) {
                assertEquals(-1, m.json.getInt("status"), m.json.toString());
                assertFalse(m.json.containsKey("code"), m.json.toString());
                double p = m.json.getJsonNumber("progress").doubleValue();
                assertTrue(p >= lastProgress && p <= 1.0, "progress rises: " + lastProgress + " then " + p);
                assertFalse(m.json.getString("output").isBlank());
                lastProgress = p;
            } else {
                assertFalse(m.json.containsKey("status"), "the final message is no progress: " + m.json);
            }
        }
        assertEquals(1.0, lastProgress, 1e-9, "the last progress message is 1.0");
    }

    @Test
    @Order(2)
    void shutdownStopsAllThenRepliesThenPowersOffAndContainersComeBack() throws Exception {
        powerCycle("shutdown", "poweroff");
    }

    @Test
    @Order(3)
    void rebootStopsAllThenRepliesThenReboots() throws Exception {
        powerCycle("reboot", "reboot");
    }

    private void powerCycle(String command, String logged) throws Exception {
        List<String> ids = List.of("u1", "u2", "u3");
        for (String id : ids) {
            assertEquals("running", domainState(live.agent().domain(id)), id);
        }
        Files.deleteIfExists(POWER_LOG);
        List<Timed> messages;
        try (TimedClient timed = TimedClient.connect(live.agent().port())) {
            messages = timed.call(request("Command").add("command", command), 60);
        }
        assertEquals(1, messages.size(), "exactly one General message: " + messages);
        Timed reply = messages.get(0);
        assertEquals(Json.createObjectBuilder().add("refID", reply.json.getString("refID")).add("type", "General").build(),
                reply.json, "success is {}");
        long tookMillis = (reply.nanos - reply.sentNanos) / 1_000_000;
        System.out.printf("%s: %d running containers stopped and answered in %d ms%n", command, ids.size(), tookMillis);
        assertTrue(tookMillis < 20_000, "well under the client's 30 s: " + tookMillis);
        for (String id : ids) {
            assertEquals("shut off", domainState(live.agent().domain(id)), id + " was stopped before the reply");
        }
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!Files.exists(POWER_LOG) && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        String[] line = Files.readString(POWER_LOG).strip().split(" ");
        long ranAt = Long.parseLong(line[0]);
        assertEquals(logged, line[1]);
        assertEquals("0", line[2], "no container of the agent ran when the power command ran");
        assertTrue(ranAt > reply.epochNanos, "the command ran after the client received the reply ("
                + (ranAt - reply.epochNanos) / 1_000_000 + " ms after)");
        System.out.printf("%s: command ran %d ms after the client received the reply%n", command,
                (ranAt - reply.epochNanos) / 1_000_000);

        // As the agent reads it at start: the snapshot with the journal's changes.
        var stored = new dev.intervirt.agent.state.StateStore(TestAgent.STATE_DIR).load().containers();
        assertTrue(stored.stream().map(c -> c.id()).toList().containsAll(ids), "every container is stored: " + stored);
        assertTrue(stored.stream().allMatch(c -> c.running()), "every container keeps its running intent: " + stored);

        // The guest comes back: a new agent on the same state starts the containers meant to run.
        live.restartKeepingState(COMMANDS);
        for (String id : ids) {
            assertEquals("running", domainState(live.agent().domain(id)), id + " is back after the 'boot'");
        }
    }

    /** One received message with the moment it arrived (monotonic and wall clock). */
    record Timed(JsonObject json, long nanos, long epochNanos, long sentNanos) {
    }

    /** A client that records when each message arrived, for gap and order checks. */
    static final class TimedClient implements AutoCloseable {
        private final BlockingQueue<Timed> inbox = new LinkedBlockingQueue<>();
        private Session session;
        private volatile long sentNanos;

        static TimedClient connect(int port) throws Exception {
            TimedClient c = new TimedClient();
            Endpoint endpoint = new Endpoint() {
                @Override
                public void onOpen(Session s, EndpointConfig config) {
                    s.addMessageHandler(String.class, (MessageHandler.Whole<String>) text -> {
                        long now = System.nanoTime();
                        Instant wall = Instant.now();
                        c.inbox.add(new Timed(Json.createReader(new StringReader(text)).readObject(), now,
                                wall.getEpochSecond() * 1_000_000_000L + wall.getNano(), c.sentNanos));
                    });
                }
            };
            c.session = ContainerProvider.getWebSocketContainer().connectToServer(endpoint,
                    ClientEndpointConfig.Builder.create().build(), URI.create("ws://127.0.0.1:" + port + "/containerManagement"));
            return c;
        }

        /** Sends and collects every message up to the final one (one that is not progress). */
        List<Timed> call(JsonObjectBuilder request, long timeoutSeconds) throws Exception {
            JsonObject o = request.build();
            sentNanos = System.nanoTime();
            session.getBasicRemote().sendText(o.toString());
            List<Timed> all = new ArrayList<>();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds);
            while (true) {
                Timed t = inbox.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                assertNotNull(t, "no final message within " + timeoutSeconds + " s; got " + all);
                assertEquals(o.getString("uuid"), t.json.getString("refID"));
                all.add(t);
                if (!t.json.containsKey("status")) {
                    return all;
                }
            }
        }

        @Override
        public void close() throws Exception {
            session.close();
        }
    }
}
