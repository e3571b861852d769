package dev.intervirt.agent.app;

import dev.intervirt.agent.host.ProcessRunner;
import dev.intervirt.agent.image.ImageSettings;
import jakarta.json.Json;
import jakarta.json.JsonObject;
import jakarta.websocket.ClientEndpointConfig;
import jakarta.websocket.Endpoint;
import jakarta.websocket.EndpointConfig;
import jakarta.websocket.MessageHandler;
import jakarta.websocket.Session;
import org.glassfish.tyrus.client.ClientManager;

import java.io.IOException;
import java.io.StringReader;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * {@code java -jar intervirt-agent.jar --smoke-test}: proves this host can run the agent, through
 * the agent's own code path. An agent with names of its own ({@value #OWNER}: network, bridge
 * {@code ivsbr0}, ports {@code ivs<n>}, tables, state in /var/lib/intervirt-smoke) starts, two
 * containers of the default image (100.127.255.1/2: the end of the shared address space, which
 * no test, no client and, as a rule, no host network uses; build machines here sit in
 * 192.0.2.0/24) are added, started and linked over its WebSocket, one pings
 * the other from inside, both are removed, and the agent's network and tables go again. Each step
 * is timed; the first that fails is printed as one line, and the exit code is 1.
 * {@code ./intervirt prepare} ends with it.
 */
final class SmokeTest {

    static final String OWNER = "ivsmoke";
    private static final String PREFIX = "ivs";
    private static final Path STATE = Path.of("/var/lib/intervirt-smoke");
    private static final Duration REPLY = Duration.ofSeconds(60);

    private final List<String> timings = new ArrayList<>();
    private final BlockingQueue<JsonObject> replies = new LinkedBlockingQueue<>();
    private long stepStart;

    private SmokeTest() {
    }

    /** Runs the smoke test with this image store; returns the exit code. */
    static int run(Path imageDir) {
        return new SmokeTest().runWith(imageDir);
    }

    private int runWith(Path imageDir) {
        long t0 = System.nanoTime();
        AgentConfig config = AgentConfig.defaults().toBuilder().port(freePort()).stateDir(STATE).imageDir(imageDir)
                .bridge(PREFIX + "br0").ownerName(OWNER).portPrefix(PREFIX).memoryMiB(256).pidsMax(512)
                .stopGrace(Duration.ofSeconds(2)).images(ImageSettings.localOnly()).build();
        AgentServer agent = new AgentServer(config);
        String step = "start the agent";
        Session session = null;
        try {
            step("start");
            agent.start();
            step = "connect over WebSocket";
            session = connect(config.port());
            step("start+connect");
            step = "add two containers";
            call(session, add("smoke-a", "100.127.255.1", "fd00:5e0::1", "02:00:00:99:00:01"));
            call(session, add("smoke-b", "100.127.255.2", "fd00:5e0::2", "02:00:00:99:00:02"));
            step("add 2");
            step = "start two containers";
            call(session, Json.createObjectBuilder().add("type", "StartContainer").add("id", "smoke-a"));
            call(session, Json.createObjectBuilder().add("type", "StartContainer").add("id", "smoke-b"));
            step("start 2");
            step = "link them";
            call(session, Json.createObjectBuilder().add("type", "Connect").add("id1", "smoke-a").add("id2", "smoke-b"));
            step("connect");
            step = "ping from one to the other";
            ping(OWNER + "-smoke-a", "100.127.255.2");
            step("ping");
            step = "remove both";
            call(session, Json.createObjectBuilder().add("type", "RemoveContainer").add("id", "smoke-a"));
            call(session, Json.createObjectBuilder().add("type", "RemoveContainer").add("id", "smoke-b"));
            step("remove 2");
            System.out.printf("smoke test: passed in %.1f s (%s)%n", (System.nanoTime() - t0) / 1e9, String.join(", ", timings));
            return 0;
        } catch (Exception | AssertionError e) {
            System.out.println("smoke test: failed to " + step + ": " + e.getMessage());
            return 1;
        } finally {
            if (session != null) {
                try {
                    session.close();
                } catch (IOException ignored) {
                    // closing anyway
                }
            }
            agent.stop();
            cleanUp();
        }
    }

    private void step(String what) {
        long now = System.nanoTime();
        if (stepStart != 0) {
            timings.add(String.format("%s %.0f ms", what, (now - stepStart) / 1e6));
        }
        stepStart = now;
    }

    private static jakarta.json.JsonObjectBuilder add(String id, String ipv4, String ipv6, String mac) {
        return Json.createObjectBuilder().add("type", "AddContainer").add("id", id).add("ipv4", ipv4).add("ipv6", ipv6)
                .add("mac", mac).add("internet", false).add("image", "debian/13");
    }

    private Session connect(int port) throws Exception {
        return ClientManager.createClient().connectToServer(new Endpoint() {
            @Override
            public void onOpen(Session s, EndpointConfig c) {
                s.addMessageHandler(String.class, (MessageHandler.Whole<String>) text ->
                        replies.add(Json.createReader(new StringReader(text)).readObject()));
            }
        }, ClientEndpointConfig.Builder.create().build(), URI.create("ws://127.0.0.1:" + port + "/containerManagement"));
    }

    /** Sends a request and waits for its final reply; a failure reply becomes an exception with its text. */
    private void call(Session session, jakarta.json.JsonObjectBuilder request) throws Exception {
        String uuid = UUID.randomUUID().toString();
        session.getBasicRemote().sendText(request.add("uuid", uuid).build().toString());
        long deadline = System.nanoTime() + REPLY.toNanos();
        while (true) {
            JsonObject reply = replies.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            if (reply == null) {
                throw new IllegalStateException("no reply within " + REPLY.toSeconds() + " s");
            }
            if (!uuid.equals(reply.getString("refID", "")) || reply.getInt("status", 0) == -1) {
                continue; // progress, or a late reply to an earlier step
            }
            if (reply.getInt("code", 0) != 0) {
                throw new IllegalStateException("code " + reply.getInt("code") + ": " + reply.getString("error", ""));
            }
            return;
        }
    }

    private static void ping(String domain, String address) throws IOException {
        String controller = Files.readString(Path.of("/run/libvirt/lxc", domain + ".pid")).trim();
        String init = Files.readString(Path.of("/proc", controller, "task", controller, "children")).trim().split("\\s+")[0];
        ProcessRunner.Result r = ProcessRunner.exec(List.of("nsenter", "-t", init, "-n", "-m", "ping", "-c1", "-W3", address), null, 20);
        if (!r.ok()) {
            throw new IllegalStateException("no reply from " + address + " (" + (r.stdout() + r.stderr()).trim().replace('\n', ' ') + ")");
        }
    }

    /** Everything of the smoke agent goes, also what a failed step left: domains, mounts, network, tables, state. */
    private static void cleanUp() {
        for (String id : List.of("smoke-a", "smoke-b")) {
            ProcessRunner.exec(List.of("virsh", "-q", "-c", "lxc:///system", "destroy", OWNER + "-" + id), null, 30);
            ProcessRunner.exec(List.of("virsh", "-q", "-c", "lxc:///system", "undefine", OWNER + "-" + id), null, 30);
            ProcessRunner.exec(List.of("umount", "-l", STATE.resolve("containers").resolve(id).resolve("rootfs").toString()), null, 30);
        }
        ProcessRunner.exec(List.of("virsh", "-q", "-c", "lxc:///system", "net-destroy", OWNER), null, 30);
        ProcessRunner.exec(List.of("virsh", "-q", "-c", "lxc:///system", "net-undefine", OWNER), null, 30);
        for (String family : List.of("bridge", "inet")) {
            ProcessRunner.exec(List.of("nft", "delete", "table", family, OWNER), null, 30);
        }
        ProcessRunner.exec(List.of("rm", "-rf", "--one-file-system", STATE.toString()), null, 30);
    }

    private static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
