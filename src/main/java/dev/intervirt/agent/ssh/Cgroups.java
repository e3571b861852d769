package dev.intervirt.agent.ssh;

import dev.intervirt.agent.host.MountTable;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The cgroup.procs files of a computer's init, one per hierarchy with controllers (v1 memory,
 * pids, devices, cpu …, or the v2 unified tree). A process written there is held to the
 * computer's limits. The {@code name=systemd} hierarchy is left alone (no controller; it is the
 * computer's systemd's own bookkeeping).
 */
final class Cgroups {

    private Cgroups() {
    }

    static List<String> procsFilesOf(int pid) throws IOException {
        List<MountTable.Entry> mounts = MountTable.read();
        List<String> files = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of("/proc", Integer.toString(pid), "cgroup"))) {
            String[] f = line.split(":", 3);
            if (f.length < 3 || f[1].startsWith("name=")) {
                continue;
            }
            String mountPoint = f[1].isEmpty() ? v2Mount(mounts) : v1Mount(mounts, f[1]);
            if (mountPoint == null) {
                continue;
            }
            if (f[1].isEmpty() && !v2HasControllers(mountPoint)) {
                continue; // hybrid host: the unified tree limits nothing
            }
            Path procs = Path.of(mountPoint + f[2], "cgroup.procs");
            if (Files.isWritable(procs)) {
                files.add(procs.toString());
            }
        }
        return files;
    }

    private static String v1Mount(List<MountTable.Entry> mounts, String controllers) {
        List<String> wanted = Arrays.asList(controllers.split(","));
        for (MountTable.Entry m : mounts) {
            if (m.type().equals("cgroup") && m.superOptions().containsAll(wanted)) {
                return m.mountPoint();
            }
        }
        return null;
    }

    private static String v2Mount(List<MountTable.Entry> mounts) {
        return mounts.stream().filter(m -> m.type().equals("cgroup2")).map(MountTable.Entry::mountPoint).findFirst().orElse(null);
    }

    private static boolean v2HasControllers(String mountPoint) {
        try {
            return !Files.readString(Path.of(mountPoint, "cgroup.controllers")).isBlank();
        } catch (IOException e) {
            return false;
        }
    }
}
