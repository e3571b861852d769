package dev.intervirt.agent.host;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

/** Which file a running computer's lower CPU weight goes to, on cgroup v2 and v1 layouts. */
class RunningCpuWeightTest {

    @TempDir
    Path root;

    private RunningCpuWeight weights() {
        return new RunningCpuWeight(root.resolve("cgroup"), root.resolve("proc"));
    }

    private void proc(int pid, String cgroupFile) throws Exception {
        Files.createDirectories(root.resolve("proc").resolve(Integer.toString(pid)));
        Files.writeString(root.resolve("proc").resolve(Integer.toString(pid)).resolve("cgroup"), cgroupFile);
    }

    private Path control(String group, String file, String value) throws Exception {
        Path dir = root.resolve("cgroup").resolve(group);
        Files.createDirectories(dir);
        return Files.writeString(dir.resolve(file), value);
    }

    @Test
    void v2TheScopeAboveLibvirtsChild() throws Exception {
        String scope = "machine.slice/machine-lxc\\x2d7\\x2dintervirt\\x2dpc1.scope";
        proc(7, "0::/" + scope + "/libvirt\n");
        Path weight = control(scope, "cpu.weight", "100");
        control(scope + "/libvirt", "cpu.weight", "100");
        assertEquals(weight, weights().lower("intervirt-pc1", 7));
        assertEquals(RunningCpuWeight.WEIGHT_V2, Files.readString(weight));
        assertEquals("100", Files.readString(root.resolve("cgroup").resolve(scope + "/libvirt/cpu.weight")),
                "the weight that counts against other computers is the scope's");
    }

    @Test
    void v1TheContainersCpuGroup() throws Exception {
        proc(8, "12:pids:/\n5:cpu:/machine/lxc-8-intervirt-pc2.libvirt-lxc\n0::/\n");
        Path shares = control("cpu/machine/lxc-8-intervirt-pc2.libvirt-lxc", "cpu.shares", "1024");
        assertEquals(shares, weights().lower("intervirt-pc2", 8));
        assertEquals(RunningCpuWeight.SHARES_V1, Files.readString(shares));
    }

    @Test
    void nothingWithoutACpuController() throws Exception {
        proc(9, "0::/machine.slice/machine-lxc.scope/libvirt\n");
        Files.createDirectories(root.resolve("cgroup/machine.slice/machine-lxc.scope/libvirt"));
        assertNull(weights().lower("intervirt-pc3", 9));
        assertFalse(Files.exists(root.resolve("cgroup/machine.slice/machine-lxc.scope/cpu.weight")));
        proc(10, "5:cpu:/\n");
        assertNull(weights().lower("intervirt-pc4", 10), "never the root group");
        assertNull(weights().lower("intervirt-gone", 11), "a process gone");
    }
}
