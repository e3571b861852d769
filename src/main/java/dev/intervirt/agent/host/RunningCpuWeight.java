package dev.intervirt.agent.host;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.logging.Logger;

/**
 * Lowers a computer's CPU weight once it runs, so that a computer being started outweighs those
 * already running. On the client's one emulated vCPU a computer's systemd boot takes 10-20 s of
 * CPU; a StartContainer beside a few such boots got a fifth of the CPU for libvirt_lxc and the
 * container's set-up, and its reply came late. Running computers stay equal among themselves.
 * <p>
 * cgroup v2: the weight of the computer's scope (libvirt keeps the processes in its
 * {@code libvirt} child; siblings compete at the scope); v1: the shares of libvirt's cpu group
 * of the container. Best effort: where there is no cpu controller nothing changes.
 */
final class RunningCpuWeight {

    private static final Logger LOG = Logger.getLogger(RunningCpuWeight.class.getName());
    /** A fifth of a starting computer's (cgroup v2 default 100; v1 shares 1024). */
    static final String WEIGHT_V2 = "20";
    static final String SHARES_V1 = "205";

    private final Path cgroupRoot;
    private final Path procRoot;

    RunningCpuWeight() {
        this(Path.of("/sys/fs/cgroup"), Path.of("/proc"));
    }

    RunningCpuWeight(Path cgroupRoot, Path procRoot) {
        this.cgroupRoot = cgroupRoot;
        this.procRoot = procRoot;
    }

    /** The file written for the container whose init is {@code initPid}, or null where none applies. */
    Path lower(String domain, int initPid) {
        try {
            Path file = target(initPid);
            if (file == null) {
                LOG.fine(() -> "no cpu controller for " + domain + ": its weight stays");
                return null;
            }
            Files.writeString(file, file.getFileName().toString().equals("cpu.weight") ? WEIGHT_V2 : SHARES_V1);
            return file;
        } catch (IOException | RuntimeException e) {
            LOG.fine(() -> "cannot lower the CPU weight of " + domain + ": " + e.getMessage());
            return null;
        }
    }

    private Path target(int initPid) throws IOException {
        String unified = null;
        for (String line : Files.readAllLines(procRoot.resolve(Integer.toString(initPid)).resolve("cgroup"))) {
            String[] f = line.split(":", 3);
            if (f.length < 3) {
                continue;
            }
            if (List.of(f[1].split(",")).contains("cpu")) {
                Path shares = v1Hierarchy().resolve(f[2].substring(1)).resolve("cpu.shares");
                return f[2].equals("/") || !Files.exists(shares) ? null : shares;
            }
            if (f[0].equals("0") && f[1].isEmpty()) {
                unified = f[2];
            }
        }
        if (unified == null || unified.equals("/")) {
            return null;
        }
        Path group = cgroupRoot.resolve(unified.substring(1));
        if (group.getFileName().toString().equals("libvirt")) {
            group = group.getParent();
        }
        Path weight = group.resolve("cpu.weight");
        return Files.exists(weight) ? weight : null;
    }

    /** The v1 cpu hierarchy's mount point (cpu,cpuacct or cpu). */
    private Path v1Hierarchy() {
        Path both = cgroupRoot.resolve("cpu,cpuacct");
        return Files.isDirectory(both) ? both : cgroupRoot.resolve("cpu");
    }
}
