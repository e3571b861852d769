package dev.intervirt.agent.container;

import dev.intervirt.agent.support.AgentClient.Exchange;
import dev.intervirt.agent.support.HostAudit;
import dev.intervirt.agent.support.HostCommands;
import dev.intervirt.agent.support.LiveAgent;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static dev.intervirt.agent.support.AgentClient.request;
import static org.junit.jupiter.api.Assertions.*;

/**
 * A learner's hostile code in one container — a memory hog, then a fork bomb — stays inside its
 * cgroup limits: the guest, the agent and the neighbouring container keep working, and the
 * hostile container can still be stopped and removed.
 */
class HostileContainerIT {

    /** The default: room for the 256 processes of the bomb, so the pids limit is what stops it. */
    private static final long MEMORY_MIB = 512;
    private static final long PIDS_MAX = 256;

    @RegisterExtension
    static final LiveAgent live = new LiveAgent();

    @BeforeAll
    static void start() {
        live.start(c -> c.toBuilder().memoryMiB(MEMORY_MIB).pidsMax(PIDS_MAX).stopGrace(Duration.ofSeconds(2)).build());
        for (int i = 2; i <= 3; i++) {
            String id = "hc" + i;
            live.ok(request("AddContainer").add("id", id).add("ipv4", "10.57.0." + i).add("ipv6", "fd57::" + i)
                    .add("mac", "02:57:00:00:00:0" + i).add("internet", false).add("image", "debian/13"));
            live.ok(request("StartContainer").add("id", id));
        }
        live.ok(request("Connect").add("id1", "hc2").add("id2", "hc3"));
    }

    @Test
    void aMemoryHogAndAForkBombStayInsideTheirContainer() throws Exception {
        String hostile = live.agent().domain("hc2");
        String neighbour = live.agent().domain("hc3");
        long t0 = System.nanoTime();

        assertEquals("500", Files.readString(Path.of("/proc", Integer.toString(HostCommands.initPid(hostile)), "oom_score_adj")).trim(),
                "the container's processes, not its controller, are the OOM killer's first choice");
        // Memory: a process that keeps everything it reads is killed at the container's limit.
        Process hog = inContainersCgroups(hostile, "tail /dev/zero");
        assertTrue(hog.waitFor(60, java.util.concurrent.TimeUnit.SECONDS), "the hog is stopped by the memory limit");
        assertEquals(128 + 9, hog.exitValue(), "the hog was killed (SIGKILL from the OOM killer)");
        assertEquals("running", HostCommands.domainState(hostile), "the OOM killer took the hog, not the container");
        Path memory = cgroupDir(hostile, "memory");
        assertTrue(memory.toString().contains(".libvirt-lxc"), "the container's processes are in libvirt's memory cgroup: " + memory);
        long peak = Long.parseLong(Files.readString(memory.resolve(Files.exists(memory.resolve("memory.peak"))
                ? "memory.peak" : "memory.max_usage_in_bytes")).trim());
        assertTrue(peak <= (MEMORY_MIB + 1) << 20, "peak memory " + (peak >> 20) + " MiB within the limit of " + MEMORY_MIB);
        assertGuestAgentAndNeighbourWork(neighbour);

        // Processes: a fork bomb reaches the pids limit and no further.
        // The classic bomb (a storm that dies down once forks fail), then a loop that keeps every
        // process it gets, so the container sits at its limit while the checks run.
        Process bomb = inContainersCgroups(hostile, "b() { b | b & }; b; while :; do sleep 1000 & done");
        Path pids = cgroupDir(hostile, "pids");
        assertTrue(pids.toString().contains(".libvirt-lxc"), "the container's processes are in its own pids cgroup: " + pids);
        long max = 0;
        for (int i = 0; i < 30; i++) {
            Thread.sleep(100);
            max = Math.max(max, Long.parseLong(Files.readString(pids.resolve("pids.current")).trim()));
        }
        long seen = max;
        assertTrue(max >= PIDS_MAX / 2, () -> "the bomb did run (" + seen + " processes in " + pids + "); bomb: "
                + HostCommands.sh("sh", "-c", "cat /proc/" + bomb.pid() + "/cgroup; pgrep -c sleep; pgrep -a -P " + bomb.pid()).stdout()
                + (bomb.isAlive() ? "" : " exited " + bomb.exitValue()));
        assertTrue(max <= PIDS_MAX, "at most " + PIDS_MAX + " processes: " + max);
        long guestT = System.nanoTime();
        assertTrue(HostCommands.sh("true").ok(), "the guest can still start processes");
        assertGuestAgentAndNeighbourWork(neighbour);
        long duringBomb = (System.nanoTime() - guestT) / 1_000_000;

        Exchange stopped = live.client().call(request("StopContainer").add("id", "hc2").build(), Duration.ofSeconds(30));
        assertTrue(stopped.ok(), stopped::toString);
        bomb.destroyForcibly();
        assertEquals("shut off", HostCommands.domainState(hostile));
        assertGuestAgentAndNeighbourWork(neighbour);
        assertTrue(live.client().call(request("RemoveContainer").add("id", "hc2")).ok());
        assertEquals(List.of(), HostAudit.ofTestAgent().differences());
        System.out.printf("HostileContainerIT: memory hog peaked at %d MiB (limit %d), fork bomb at %d processes (limit %d);"
                        + " guest, agent and neighbour checks during the bomb %d ms; stop of the bombed container %d ms; %.1f s%n",
                peak >> 20, MEMORY_MIB, max, PIDS_MAX, duringBomb, stopped.millis(), (System.nanoTime() - t0) / 1e9);
    }

    private static void assertGuestAgentAndNeighbourWork(String neighbour) {
        Exchange v = live.client().call(request("Command").add("command", "version").build(), Duration.ofSeconds(5));
        assertTrue(v.millis() < 2000, "the agent answers at once: " + v.millis() + " ms");
        Exchange cut = live.client().call(request("Disconnect").add("id1", "hc2").add("id2", "hc3").build(), Duration.ofSeconds(10));
        assertTrue(cut.ok(), cut::toString);
        assertTrue(live.client().call(request("Connect").add("id1", "hc2").add("id2", "hc3").build(), Duration.ofSeconds(10)).ok());
        assertTrue(HostCommands.inside(neighbour, "/bin/true").ok(), "the neighbour runs processes");
        assertTrue(HostCommands.insideNet(neighbour, "ping", "-c", "1", "-W", "2", "169.254.0.1").ok()
                || HostCommands.insideNet(neighbour, "ip", "route").ok(), "the neighbour's network answers");
    }

    /**
     * Runs {@code script} as a process of the container: in its namespaces and in the cgroups of
     * its init (as if a learner started it there), so the container's limits apply.
     */
    private static Process inContainersCgroups(String domain, String script) throws IOException {
        int init = HostCommands.initPid(domain);
        Process p = new ProcessBuilder("sh", "-c", "read go; exec nsenter -t " + init + " -m -u -i -n -p sh -c \"$0\"", script)
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(Path.of("target", "hostile-container.log").toFile()))
                .start();
        for (String line : Files.readAllLines(Path.of("/proc", Integer.toString(init), "cgroup"))) {
            String[] f = line.split(":", 3);
            if (!f[2].contains(".libvirt-lxc")) {
                continue; // a hierarchy where the container has no cgroup of its own
            }
            String dir = f[1].isEmpty() ? (Files.isDirectory(Path.of("/sys/fs/cgroup/unified")) ? "unified" : "")
                    : f[1].startsWith("name=") ? f[1].substring(5) : f[1];
            // A cgroup of its own below the container's (as a learner's service would have), so that
            // only the container's limits apply, not those systemd gives its init.scope.
            Path own = Path.of("/sys/fs/cgroup", dir, f[2].replaceAll("(\\.libvirt-lxc)/.*$", "$1").substring(1), "ivtest-hostile");
            try {
                Files.createDirectories(own);
                Files.writeString(own.resolve("cgroup.procs"), Long.toString(p.pid()));
            } catch (IOException e) {
                // cpuset: a new cgroup has no CPUs yet; the process stays in the container's own
            }
        }
        // As a process started inside would: it inherits init's OOM preference (the agent sets it).
        Files.writeString(Path.of("/proc", Long.toString(p.pid()), "oom_score_adj"),
                Files.readString(Path.of("/proc", Integer.toString(init), "oom_score_adj")).trim());
        try (OutputStream go = p.getOutputStream()) {
            go.write('\n');
        }
        return p;
    }

    /** The cgroup directory of the container's init for a v1 controller, or the unified one. */
    private static Path cgroupDir(String domain, String controller) throws IOException {
        int init = HostCommands.initPid(domain);
        String unified = null;
        for (String line : Files.readAllLines(Path.of("/proc", Integer.toString(init), "cgroup"))) {
            String[] f = line.split(":", 3);
            if (List.of(f[1].split(",")).contains(controller)) {
                // The container's own cgroup (libvirt's), not the sub-cgroup systemd put init in.
                String path = f[2].replaceAll("(\\.libvirt-lxc)/.*$", "$1");
                return Path.of("/sys/fs/cgroup", f[1], path.substring(1));
            }
            if (f[1].isEmpty()) {
                unified = f[2];
            }
        }
        return Path.of("/sys/fs/cgroup", unified.substring(1));
    }
}
