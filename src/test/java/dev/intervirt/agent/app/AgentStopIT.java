package dev.intervirt.agent.app;

import dev.intervirt.agent.support.AgentClient;
import dev.intervirt.agent.support.SubprocessAgent;
import dev.intervirt.agent.support.TestAgent;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static dev.intervirt.agent.support.AgentClient.request;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Stopping the agent (SIGTERM, as systemd does) leaves nothing of it running: an image build it
 * started (the project's builder with its debootstrap), its nft session, every helper. A builder
 * gets SIGTERM first, so its own clean-up removes its temporary tree.
 */
class AgentStopIT {

    /** A release no test caches: AddContainer hands it to the builder (debootstrap from the mirror). */
    private static final String IMAGE = "debian/bookworm";
    private static final Path LOG = Path.of("target/agent-stop-agent.log");

    @AfterAll
    static void tearDown() {
        TestAgent.wipeHost();
    }

    @Test
    void sigtermEndsTheImageBuilderAndEveryHelperWithinTheStop() throws Exception {
        TestAgent.wipeHost();
        Path imageDir = Files.createTempDirectory(Path.of("target"), "stop-images").toAbsolutePath();
        Path builder = Path.of("scripts/build-image.sh").toAbsolutePath();
        SubprocessAgent agent = SubprocessAgent.start(LOG, "--image-dir", imageDir.toString(), "--image-builder", builder.toString());
        try (AgentClient client = agent.client()) {
            AgentClient.Exchange x = client.call(request("AddContainer").add("id", "s1").add("ipv4", "10.63.0.1")
                    .add("ipv6", "fd00:63::1").add("mac", "02:00:00:00:63:01").add("internet", false).add("image", IMAGE));
            assertEquals(6, x.code(), "the image is being prepared: " + x);
        }
        String marker = "INTERVIRT_AGENT_HELPER=" + TestAgent.OWNER + ":" + agent.pid();
        long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        while (helpers(marker).stream().noneMatch(c -> c.contains("debootstrap")) && System.nanoTime() < deadline) {
            Thread.sleep(200);
        }
        List<String> before = helpers(marker);
        assertTrue(before.stream().anyMatch(c -> c.contains("debootstrap")), "the builder runs debootstrap: " + before);

        long t0 = System.nanoTime();
        assertTrue(agent.terminate(Duration.ofSeconds(20)), "the agent ends on SIGTERM");
        double stopSeconds = (System.nanoTime() - t0) / 1e9;
        List<String> after = helpers(marker);
        System.out.printf("AgentStopIT: %d helper process(es) before the stop (%s), stop took %.2f s, %d left%n",
                before.size(), String.join(", ", before), stopSeconds, after.size());
        assertEquals(List.of(), after, "nothing the agent started outlives it");
        try (DirectoryStream<Path> left = Files.newDirectoryStream(imageDir.resolve("debian"))) {
            List<String> names = new ArrayList<>();
            left.forEach(p -> names.add(p.getFileName().toString()));
            names.removeIf(n -> !n.contains(".build."));
            assertEquals(List.of(), names, "the builder removed its temporary tree");
        } catch (java.nio.file.NoSuchFileException e) {
            // never made: nothing left either
        }
    }

    /** The command names of live processes carrying the agent's helper marker. */
    private static List<String> helpers(String marker) throws IOException {
        List<String> found = new ArrayList<>();
        try (DirectoryStream<Path> procs = Files.newDirectoryStream(Path.of("/proc"), p -> p.getFileName().toString().matches("\\d+"))) {
            for (Path p : procs) {
                try {
                    String env = new String(Files.readAllBytes(p.resolve("environ")));
                    if (env.contains(marker + "\0") || env.endsWith(marker)) {
                        found.add(Files.readString(p.resolve("comm")).trim());
                    }
                } catch (IOException gone) {
                    // ended meanwhile
                }
            }
        }
        return found;
    }
}
