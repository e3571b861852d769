package dev.intervirt.agent.support;

import dev.intervirt.agent.host.ProcessRunner;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * What tests use to look at the host and inside containers on their own, independently of the
 * agent's bookkeeping: virsh, ip, nft, nsenter, /proc.
 */
public final class HostCommands {

    private HostCommands() {
    }

    public static ProcessRunner.Result sh(String... command) {
        return ProcessRunner.exec(List.of(command), null, 60);
    }

    public static String ok(String... command) {
        ProcessRunner.Result r = sh(command);
        if (!r.ok()) {
            throw new AssertionError(String.join(" ", command) + " failed (" + r.exitCode() + "): " + r.stderr() + r.stdout());
        }
        return r.stdout();
    }

    public static boolean domainExists(String domain) {
        return sh("virsh", "-c", "lxc:///system", "dominfo", domain).ok();
    }

    /** "running", "shut off", or null when there is no such domain. */
    public static String domainState(String domain) {
        ProcessRunner.Result r = sh("virsh", "-c", "lxc:///system", "domstate", domain);
        return r.ok() ? r.stdout().trim() : null;
    }

    /** The pid of a running domain's init, read from libvirt's pid file and /proc. */
    public static int initPid(String domain) {
        try {
            String controller = Files.readString(Path.of("/run/libvirt/lxc/" + domain + ".pid")).trim();
            String children = Files.readString(Path.of("/proc", controller, "task", controller, "children")).trim();
            return Integer.parseInt(children.split("\\s+")[0]);
        } catch (IOException | RuntimeException e) {
            throw new AssertionError("no init process for " + domain + ": " + e);
        }
    }

    /** Runs a command inside the container's namespaces (network, mount, pid, uts, ipc). */
    public static ProcessRunner.Result inside(String domain, String... command) {
        List<String> argv = new ArrayList<>(List.of("nsenter", "-t", Integer.toString(initPid(domain)), "-n", "-m", "-p",
                "-u", "-i"));
        argv.addAll(List.of(command));
        return ProcessRunner.exec(argv, null, 60);
    }

    /** Runs a command inside the container's network namespace only. */
    public static ProcessRunner.Result insideNet(String domain, String... command) {
        List<String> argv = new ArrayList<>(List.of("nsenter", "-t", Integer.toString(initPid(domain)), "-n"));
        argv.addAll(List.of(command));
        return ProcessRunner.exec(argv, null, 60);
    }

    /** Starts a long-running command inside the container (e.g. a listener); the caller stops it. */
    public static Process startInside(String domain, String... command) {
        List<String> argv = new ArrayList<>(List.of("nsenter", "-t", Integer.toString(initPid(domain)), "-n", "-m", "-p",
                "-u", "-i"));
        argv.addAll(List.of(command));
        try {
            return new ProcessBuilder(argv).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new AssertionError("cannot start " + argv + ": " + e);
        }
    }

    /** Runs a command in a network namespace made with {@code ip netns add}. */
    public static ProcessRunner.Result inNetns(String netns, String... command) {
        List<String> argv = new ArrayList<>(List.of("ip", "netns", "exec", netns));
        argv.addAll(List.of(command));
        return ProcessRunner.exec(argv, null, 60);
    }

    public static boolean linkExists(String name) {
        return sh("ip", "link", "show", "dev", name).ok();
    }

    public static boolean isMountedUnder(Path dir) {
        try {
            String prefix = dir.toAbsolutePath().normalize().toString();
            return Files.readAllLines(Path.of("/proc/self/mountinfo")).stream()
                    .map(l -> l.split(" ")[4]).anyMatch(m -> m.startsWith(prefix));
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }
}
