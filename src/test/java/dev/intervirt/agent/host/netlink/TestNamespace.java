package dev.intervirt.agent.host.netlink;

import dev.intervirt.agent.host.ProcessRunner;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A named network namespace a test makes for itself ({@code OWNER-nl-N}, owner from
 * {@code -Dintervirt.test.owner}): an {@code eth0}/{@code peer0} veth pair inside it, both up,
 * and on request a process living in it, the stand-in for a container's init. Closing ends
 * the process and deletes the namespace.
 */
public final class TestNamespace implements AutoCloseable {

    private static final String OWNER = System.getProperty("intervirt.test.owner", "ivagent");
    private static final AtomicInteger COUNT = new AtomicInteger();

    public final String name;
    private Process init;

    public TestNamespace() {
        this.name = OWNER + "-nl-" + ProcessHandle.current().pid() % 100000 + "-" + COUNT.incrementAndGet();
        ProcessRunner.exec(List.of("ip", "netns", "delete", name), null, 10);
        ProcessRunner.run(List.of("ip", "netns", "add", name));
        ip("link", "add", "eth0", "type", "veth", "peer", "name", "peer0");
        ip("link", "set", "peer0", "up");
        ip("link", "set", "lo", "up");
    }

    /** {@code /run/netns/NAME}, for {@link Namespaces}. */
    public Path file() {
        return Path.of("/run/netns", name);
    }

    /** {@code ip -n NAME ARGS...}; its output. */
    public String ip(String... args) {
        List<String> cmd = new ArrayList<>(List.of("ip", "-n", name));
        cmd.addAll(List.of(args));
        return ProcessRunner.run(cmd);
    }

    /** A process in the namespace (a container's init for {@code ContainerNetns}); its pid. */
    public int startInit() {
        try {
            init = new ProcessBuilder("ip", "netns", "exec", name, "sleep", "3600").start();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return (int) init.pid();
    }

    /** Ends the process (a container that stops). */
    public void stopInit() throws InterruptedException {
        if (init != null) {
            init.destroy();
            init.waitFor(10, TimeUnit.SECONDS);
            init = null;
        }
    }

    @Override
    public void close() throws InterruptedException {
        stopInit();
        ProcessRunner.exec(List.of("ip", "netns", "delete", name), null, 10);
    }
}
