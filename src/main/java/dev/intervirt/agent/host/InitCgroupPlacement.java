package dev.intervirt.agent.host;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.logging.Logger;

/**
 * Moves a starting container's pid 1 into libvirt's own cgroup path in the {@code name=systemd}
 * and unified hierarchies of a hybrid cgroup host, from the host: what the first lines of
 * {@link DomainXml#CGROUP_PLACEMENT} wait for before the image's init runs. The script did it
 * itself before, with eight processes (mkdir, mount, umount, rmdir) in every start's path
 * (~12 ms); it still does, if this does not come within moments (an agent that died during the
 * start, a host whose hierarchies are mounted elsewhere). Nothing to do on pure cgroup v2.
 */
public final class InitCgroupPlacement {

    private static final Logger LOG = Logger.getLogger(InitCgroupPlacement.class.getName());
    private static final Path ROOT = Path.of("/sys/fs/cgroup");
    /** name=systemd last: the script waits for that line to show libvirt's path. */
    private static final List<String> HIERARCHIES = List.of("unified", "systemd");

    private InitCgroupPlacement() {
    }

    /** Places {@code pid}; a failure is logged only (the script then places itself). Public for the benchmark's floor. */
    public static void place(int pid) {
        place(ROOT, Path.of("/proc", Integer.toString(pid), "cgroup"), pid);
    }

    /** With the cgroup root and the process's cgroup file given (tests). Returns the directories written. */
    static List<Path> place(Path root, Path cgroupFile, int pid) {
        try {
            String path = memoryPath(Files.readAllLines(cgroupFile));
            if (path == null || path.equals("/")) {
                return List.of(); // pure cgroup v2, or a cgroup namespace: nothing to move
            }
            List<Path> written = new java.util.ArrayList<>(2);
            for (String hierarchy : HIERARCHIES) {
                Path mount = root.resolve(hierarchy);
                if (!Files.exists(mount.resolve("cgroup.procs"))) {
                    continue;
                }
                Path dir = mount.resolve(path.substring(1));
                Files.createDirectories(dir);
                Files.writeString(dir.resolve("cgroup.procs"), Integer.toString(pid));
                written.add(dir);
            }
            return written;
        } catch (IOException | RuntimeException e) {
            LOG.fine(() -> "cgroup placement of pid " + pid + " from the host failed (the container places itself): " + e);
            return List.of();
        }
    }

    /** The path of the v1 memory controller's own line of a /proc/<pid>/cgroup file (as the script reads it), or null. */
    static String memoryPath(List<String> cgroupLines) {
        for (String line : cgroupLines) {
            String[] f = line.split(":", 3);
            if (f.length == 3 && f[1].equals("memory")) {
                return f[2];
            }
        }
        return null;
    }
}
