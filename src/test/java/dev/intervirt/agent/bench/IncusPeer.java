package dev.intervirt.agent.bench;

import dev.intervirt.agent.host.ProcessRunner;

import java.nio.file.Path;
import java.util.List;

/**
 * Incus 6 as the peer: {@code scripts/bench-incus.sh setup} installs it, starts its daemon and
 * prepares a btrfs pool, the same rootfs as an image and a profile; here {@code incus launch}
 * (create + start, returning once the container runs) is timed and each instance deleted.
 */
final class IncusPeer {

    static final String IMAGE = "ivbench-trixie";
    static final String PROFILE = "ivbench";

    private final Path script;
    /** Why Incus cannot run here, or null when it is ready. */
    final String unavailable;
    String version = "?";

    private IncusPeer(Path script, String unavailable) {
        this.script = script;
        this.unavailable = unavailable;
    }

    static IncusPeer setUp(Path script) {
        ProcessRunner.Result r;
        try {
            r = ProcessRunner.exec(List.of(script.toString(), "setup"), null, 1200);
        } catch (RuntimeException e) {
            return new IncusPeer(script, "setup failed: " + e.getMessage());
        }
        if (!r.ok()) {
            String out = (r.stdout() + "\n" + r.stderr()).strip();
            String last = out.isEmpty() ? "exit " + r.exitCode() : out.lines().reduce((a, b) -> b).orElse("");
            return new IncusPeer(script, "setup failed: " + last);
        }
        IncusPeer peer = new IncusPeer(script, null);
        ProcessRunner.Result v = ProcessRunner.exec(List.of("incus", "version"), null, 30);
        peer.version = v.stdout().lines().filter(l -> l.startsWith("Server version")).findFirst()
                .map(l -> l.replace("Server version:", "").strip()).orElse(v.stdout().strip());
        return peer;
    }

    /** One {@code incus launch}; returns its wall time in ms. */
    double launch(String name) {
        long t0 = System.nanoTime();
        ProcessRunner.Result r = ProcessRunner.exec(List.of("incus", "launch", IMAGE, name, "-p", PROFILE, "-q"), null, 300);
        double ms = (System.nanoTime() - t0) / 1e6;
        if (!r.ok()) {
            throw new IllegalStateException("incus launch " + name + " failed: " + r.stderr().strip());
        }
        return ms;
    }

    /** {@code incus delete -f}; returns its wall time in ms. */
    double delete(String name) {
        long t0 = System.nanoTime();
        ProcessRunner.exec(List.of("incus", "delete", "-f", name), null, 300);
        return (System.nanoTime() - t0) / 1e6;
    }

    void cleanUp() {
        ProcessRunner.exec(List.of(script.toString(), "cleanup"), null, 300);
    }
}
