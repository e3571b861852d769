package dev.intervirt.agent.host;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The host side of a starting container's cgroup placement, and the script of pid 1 that waits
 * for it (run by the real /bin/sh, with its files redirected into a temporary directory: its
 * own cgroup file, the fallback's first step and the image's init).
 */
class InitCgroupPlacementTest {

    static final String HYBRID = "12:memory:/machine/lxc-8-intervirt-pc2.libvirt-lxc\n9:name=systemd:/\n0::/\n";

    @TempDir
    Path dir;

    private Path cgroupFile(String content) throws IOException {
        return Files.writeString(dir.resolve("cgroup"), content);
    }

    private Path hierarchy(String name) throws IOException {
        Path h = dir.resolve("root").resolve(name);
        Files.createDirectories(h);
        Files.writeString(h.resolve("cgroup.procs"), "");
        return h;
    }

    @Test
    void aHybridHostGetsInitIntoLibvirtsPathOfBothHierarchies() throws Exception {
        Path unified = hierarchy("unified");
        Path systemd = hierarchy("systemd");
        List<Path> written = InitCgroupPlacement.place(dir.resolve("root"), cgroupFile(HYBRID), 4242);
        Path own = Path.of("machine/lxc-8-intervirt-pc2.libvirt-lxc");
        assertEquals(List.of(unified.resolve(own), systemd.resolve(own)), written, "unified first, name=systemd last");
        assertEquals("4242", Files.readString(systemd.resolve(own).resolve("cgroup.procs")));
        assertEquals("4242", Files.readString(unified.resolve(own).resolve("cgroup.procs")));
    }

    @Test
    void nothingOnPureCgroupV2OrInACgroupNamespace() throws Exception {
        hierarchy("systemd");
        assertEquals(List.of(), InitCgroupPlacement.place(dir.resolve("root"), cgroupFile("0::/machine.slice/x.scope\n"), 1));
        assertEquals(List.of(), InitCgroupPlacement.place(dir.resolve("root"), cgroupFile("12:memory:/\n0::/\n"), 1));
        assertFalse(Files.exists(dir.resolve("root/systemd/machine.slice")));
    }

    @Test
    void aMissingHierarchyIsSkippedAndAFailureOnlyLogged() throws Exception {
        Path systemd = hierarchy("systemd");
        assertEquals(List.of(systemd.resolve("machine/lxc-8-intervirt-pc2.libvirt-lxc")),
                InitCgroupPlacement.place(dir.resolve("root"), cgroupFile(HYBRID), 7));
        assertEquals(List.of(), InitCgroupPlacement.place(dir.resolve("root"), dir.resolve("no-such-process"), 7));
    }

    @Test
    void theMemoryLineIsTheControllersOwnLine() {
        assertEquals("/a", InitCgroupPlacement.memoryPath(List.of("4:cpu,cpuacct:/b", "3:memory:/a", "0::/c")));
        assertEquals(null, InitCgroupPlacement.memoryPath(List.of("0::/c")));
    }

    // ---- the script of pid 1 ----------------------------------------------------------------

    /** The script with its cgroup file, the fallback's first step and the init redirected; its output. */
    private Process script(Path cgroup) throws IOException {
        String s = DomainXml.CGROUP_PLACEMENT
                .replace("/proc/self/cgroup", cgroup.toString())
                .replace("mkdir -p /dev/.ivcg", "echo fallback && false")
                .replace("exec /sbin/init", "echo init");
        assertTrue(s.contains(cgroup.toString()) && s.contains("echo fallback") && s.contains("echo init"), s);
        return new ProcessBuilder("sh", "-c", s).redirectErrorStream(true).start();
    }

    private static String output(Process p) throws Exception {
        assertTrue(p.waitFor(20, TimeUnit.SECONDS), "the script ended");
        return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    }

    @Test
    void theScriptWaitsForTheHostsPlacementAndThenRunsTheInit() throws Exception {
        Path cgroup = cgroupFile(HYBRID);
        Process p = script(cgroup);
        Thread.sleep(50);
        assertTrue(p.isAlive(), "waits while name=systemd still shows the root");
        Path next = dir.resolve("cgroup.next");
        Files.writeString(next, HYBRID.replace("9:name=systemd:/", "9:name=systemd:/machine/lxc-8-intervirt-pc2.libvirt-lxc"));
        Files.move(next, cgroup, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        assertEquals("init", output(p), "placed by the host: no fallback, straight to the init");
    }

    @Test
    void withoutTheHostsPlacementTheScriptPlacesItself() throws Exception {
        assertEquals("fallback\ninit", output(script(cgroupFile(HYBRID))));
    }

    @Test
    void withoutANameSystemdHierarchyTheUnifiedLineCounts() throws Exception {
        assertEquals("init", output(script(cgroupFile("12:memory:/m/x\n0::/m/x\n"))));
    }

    @Test
    void onPureCgroupV2TheInitRunsAtOnce() throws Exception {
        assertEquals("init", output(script(cgroupFile("0::/machine.slice/x.scope\n"))));
    }
}
