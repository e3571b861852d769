package dev.intervirt.agent.support;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The agent as its own process ({@code java -cp <test class path> …Main}), with the test
 * agent's names and state, so a test can SIGKILL it at any moment and start it again. Its
 * output goes to {@code target/<log>}.
 */
public final class SubprocessAgent implements AutoCloseable {

    private final Process process;
    private final int port;

    private SubprocessAgent(Process process, int port) {
        this.process = process;
        this.port = port;
    }

    /** Starts the agent and waits until it listens (it reconciles before that). */
    public static SubprocessAgent start(Path log, String... extraArgs) {
        int port = AgentPorts.free();
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1", "-Xshare:auto", "-cp", System.getProperty("java.class.path"),
                "dev.intervirt.agent.app.Main",
                "--port", Integer.toString(port), "--state-dir", TestAgent.STATE_DIR.toString(),
                "--image-dir", TestAgent.IMAGE_DIR.toString(), "--bridge", TestAgent.BRIDGE,
                "--owner-name", TestAgent.OWNER, "--port-prefix", TestAgent.PORT_PREFIX,
                "--memory-mib", "256", "--pids-max", "512", "--stop-grace-seconds", "3",
                // Tests never go outside: no image server, no background prefetch.
                "--image-server", "none", "--prefetch-images", ""));
        cmd.addAll(List.of(extraArgs));
        try {
            Files.createDirectories(log.getParent());
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
            SubprocessAgent agent = new SubprocessAgent(p, port);
            // Never outlive the test JVM, whatever way a test ends.
            Runtime.getRuntime().addShutdownHook(new Thread(p::destroyForcibly));
            agent.awaitListening(Duration.ofSeconds(90), log);
            return agent;
        } catch (IOException e) {
            throw new IllegalStateException("cannot start the agent: " + e, e);
        }
    }

    private void awaitListening(Duration timeout, Path log) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("agent exited with " + process.exitValue() + "; see " + log);
            }
            if (WebSocketProbe.upgrades(port)) {
                return;
            }
            sleep(50);
        }
        kill();
        throw new IllegalStateException("agent did not listen within " + timeout + "; see " + log);
    }

    public int port() {
        return port;
    }

    /** A client; a connection refused just after the port opened is tried again (a loaded machine). */
    public AgentClient client() {
        for (int attempt = 1; ; attempt++) {
            try {
                return AgentClient.connect(port);
            } catch (IllegalStateException e) {
                if (attempt >= 5 || !process.isAlive()) {
                    throw e;
                }
                sleep(200);
            }
        }
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    public long pid() {
        return process.pid();
    }

    /** SIGTERM, as systemd stops the service; returns whether it exited within {@code timeout}. */
    public boolean terminate(Duration timeout) {
        process.destroy();
        try {
            return process.waitFor(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** SIGKILL, as a crash: no shutdown hook runs. */
    public void kill() {
        process.destroyForcibly();
        try {
            process.waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        kill();
    }


    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
