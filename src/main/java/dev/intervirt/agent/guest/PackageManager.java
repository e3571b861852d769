package dev.intervirt.agent.guest;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The package managers a container image may have, how to find them in its root file
 * system, and the non-interactive commands (argument lists, run inside the container) that
 * refresh the package lists and upgrade everything. The order is the order of detection.
 */
public enum PackageManager {

    /** Debian, Ubuntu, intervirtos: apt with its status lines on stdout (see {@link AptStatus}). */
    APT("apt-get", List.of(
            List.of("apt-get", "-q", "-o", "APT::Status-Fd=1", "update"),
            List.of("apt-get", "-q", "-y", "-o", "APT::Status-Fd=1", "-o", "Dpkg::Options::=--force-confdef",
                    "-o", "Dpkg::Options::=--force-confold", "upgrade"))),
    /** Fedora. */
    DNF("dnf", List.of(
            List.of("dnf", "-y", "--refresh", "upgrade"))),
    /** Arch Linux. */
    PACMAN("pacman", List.of(
            List.of("pacman", "-Syu", "--noconfirm", "--noprogressbar"))),
    /** Alpine. */
    APK("apk", List.of(
            List.of("apk", "upgrade", "--update-cache", "--no-progress")));

    private static final List<String> BIN_DIRS = List.of("usr/bin", "bin", "usr/sbin", "sbin");

    private final String binary;
    private final List<List<String>> commands;

    PackageManager(String binary, List<List<String>> commands) {
        this.binary = binary;
        this.commands = commands;
    }

    public String binary() {
        return binary;
    }

    /** The commands of one update, in order; each must exit 0. */
    public List<List<String>> updateCommands() {
        return commands;
    }

    /** The first package manager whose program is in the root file system {@code root}. */
    public static Optional<PackageManager> detect(Path root) {
        for (PackageManager pm : values()) {
            for (String dir : BIN_DIRS) {
                // no link is followed: an absolute link inside the container would lead to the host's files
                if (Files.exists(root.resolve(dir).resolve(pm.binary), LinkOption.NOFOLLOW_LINKS)) {
                    return Optional.of(pm);
                }
            }
        }
        return Optional.empty();
    }

    /** The name the learner knows it by: apt, dnf, pacman, apk. */
    public String label() {
        return this == APT ? "apt" : binary;
    }
}
