package dev.intervirt.agent.host;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.logging.Logger;

/**
 * Caps the number of processes of one container, so a fork bomb inside cannot exhaust the
 * guest. libvirt's LXC driver sets no pids limit; on hybrid cgroup hosts it even leaves the
 * container in the root pids cgroup. Then the agent makes {@code pids/<owner>/<domain>},
 * moves every process of the container's pid namespace into it and sets {@code pids.max};
 * where libvirt did give the container its own pids cgroup (cgroup v2 guests), the limit is
 * written there.
 */
public class CgroupPidLimits implements PidLimits {

    private static final Logger LOG = Logger.getLogger(CgroupPidLimits.class.getName());
    private static final Path CGROUP = Path.of("/sys/fs/cgroup");

    private final String owner;
    private final long max;

    public CgroupPidLimits(String owner, long max) {
        this.owner = owner;
        this.max = max;
    }

    @Override
    public long max() {
        return max;
    }

    @Override
    public void apply(String domain, int initPid) {
        try {
            String path = pidsCgroupOf(initPid);
            Path v1 = CGROUP.resolve("pids");
            String libvirtPath = libvirtCgroupOf(initPid);
            if (Files.isDirectory(v1) && Files.exists(v1.resolve("cgroup.procs")) && libvirtPath != null) {
                // Where the container's systemd builds its tree (see DomainXml.CGROUP_PLACEMENT):
                // a limit here holds for every process it starts.
                Path own = v1.resolve(libvirtPath.substring(1));
                Files.createDirectories(own);
                Files.writeString(own.resolve("pids.max"), Long.toString(max));
                moveNamespace(initPid, own.resolve("cgroup.procs"));
            } else if (Files.isDirectory(v1) && Files.exists(v1.resolve("cgroup.procs"))) {
                if (path.equals("/")) {
                    Path own = v1.resolve(owner).resolve(domain);
                    Files.createDirectories(own);
                    Files.writeString(own.resolve("pids.max"), Long.toString(max));
                    moveNamespace(initPid, own.resolve("cgroup.procs"));
                } else {
                    Files.writeString(v1.resolve(path.substring(1)).resolve("pids.max"), Long.toString(max));
                }
            } else {
                Path dir = CGROUP.resolve(path.substring(1));
                if (Files.exists(dir.resolve("pids.max"))) {
                    Files.writeString(dir.resolve("pids.max"), Long.toString(max));
                } else {
                    LOG.warning("no pids controller for " + domain + " at " + dir + "; process limit not applied");
                }
            }
        } catch (IOException e) {
            throw new CommandFailedException(List.of("pids limit", domain), -1, e.getMessage());
        }
    }

    @Override
    public void release(String domain) {
        Path own = CGROUP.resolve("pids").resolve(owner).resolve(domain);
        try {
            Files.deleteIfExists(own);
        } catch (IOException e) {
            LOG.fine(() -> "cannot remove " + own + ": " + e.getMessage());
        }
        // The trees the container's systemd built below libvirt's cgroup of it.
        // Compiled once: String.matches per directory compiled it for each of the N containers'
        // directories, N times in a wipe (a third of everything the agent allocated in the bench).
        java.util.regex.Pattern name = java.util.regex.Pattern.compile(
                "lxc-\\d+-" + java.util.regex.Pattern.quote(domain) + "\\.libvirt-lxc");
        // libvirt removes its own directory only when empty, and not at all when the container
        // ended while libvirtd was down: every hierarchy is swept.
        List<Path> hierarchies;
        try (var list = Files.list(CGROUP)) {
            hierarchies = list.filter(Files::isDirectory).toList();
        } catch (IOException e) {
            hierarchies = List.of();
        }
        for (Path hierarchy : hierarchies) {
            Path machine = hierarchy.resolve("machine");
            if (!Files.isDirectory(machine)) {
                continue;
            }
            try (var dirs = Files.list(machine)) {
                for (Path d : dirs.filter(p -> name.matcher(p.getFileName().toString()).matches()).toList()) {
                    removeTree(d);
                }
            } catch (IOException e) {
                LOG.fine(() -> "cannot list " + machine + ": " + e.getMessage());
            }
        }
    }

    /** rmdir depth first (cgroup directories hold only control files, which go with them). */
    private static void removeTree(Path dir) {
        try (var walk = Files.walk(dir)) {
            for (Path d : walk.filter(Files::isDirectory).sorted(java.util.Comparator.reverseOrder()).toList()) {
                try {
                    Files.delete(d);
                } catch (IOException e) {
                    LOG.fine(() -> "cannot remove " + d + " (still in use?): " + e.getMessage());
                }
            }
        } catch (IOException | java.io.UncheckedIOException e) {
            LOG.fine(() -> "cannot remove " + dir + ": " + e.getMessage());
        }
    }

    /**
     * libvirt's cgroup of the container, from the v1 memory line of a process in it
     * ({@code /machine/lxc-<pid>-<name>.libvirt-lxc}, whatever systemd made below it), or null.
     */
    static String libvirtCgroupOf(int pid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Integer.toString(pid), "cgroup"))) {
            String[] f = line.split(":", 3);
            if (f.length == 3 && List.of(f[1].split(",")).contains("memory")) {
                java.util.regex.Matcher m = LIBVIRT_CGROUP.matcher(f[2]);
                return m.matches() ? m.group(1) : null;
            }
        }
        return null;
    }

    private static final java.util.regex.Pattern LIBVIRT_CGROUP = java.util.regex.Pattern.compile("(/.*?\\.libvirt-lxc)(/.*)?");

    /** The pids cgroup path of a process: the v1 pids line, else the v2 unified line. */
    static String pidsCgroupOf(int pid) throws IOException {
        String unified = null;
        for (String line : Files.readAllLines(Path.of("/proc", Integer.toString(pid), "cgroup"))) {
            String[] f = line.split(":", 3);
            if (f.length < 3) {
                continue;
            }
            if (List.of(f[1].split(",")).contains("pids")) {
                return f[2];
            }
            if (f[0].equals("0") && f[1].isEmpty()) {
                unified = f[2];
            }
        }
        return unified == null ? "/" : unified;
    }

    /**
     * Moves the container's init and every process below it, walked down the process tree
     * ({@code /proc/<pid>/task/<tid>/children}), twice to catch forks in flight. At start every
     * process of the container descends from its init; a walk of the tree costs the same
     * whatever else runs on the guest, where a scan of all of /proc grew with every container.
     */
    private static void moveNamespace(int initPid, Path procsFile) {
        for (int round = 0; round < 2; round++) {
            java.util.Deque<Integer> todo = new java.util.ArrayDeque<>(List.of(initPid));
            java.util.Set<Integer> seen = new java.util.HashSet<>();
            while (!todo.isEmpty()) {
                int pid = todo.pop();
                if (!seen.add(pid)) {
                    continue;
                }
                try {
                    Files.writeString(procsFile, Integer.toString(pid));
                } catch (IOException e) {
                    continue; // exited meanwhile: its children went to init, which is walked too
                }
                children(pid).forEach(todo::push);
            }
        }
    }

    private static List<Integer> children(int pid) {
        List<Integer> children = new java.util.ArrayList<>();
        try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Path.of("/proc", Integer.toString(pid), "task"))) {
            for (Path task : tasks) {
                for (String child : Files.readString(task.resolve("children")).trim().split("\\s+")) {
                    if (!child.isEmpty()) {
                        children.add(Integer.parseInt(child));
                    }
                }
            }
        } catch (IOException | NumberFormatException e) {
            // exited meanwhile
        }
        return children;
    }
}
