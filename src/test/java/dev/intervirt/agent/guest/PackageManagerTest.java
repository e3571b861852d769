package dev.intervirt.agent.guest;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.*;

/** Detection from a root file system and the exact argument lists of each package manager. */
class PackageManagerTest {

    @Test
    void aptRefreshesThenUpgradesWithStatusLinesOnStdoutAndKeepsConfigFiles() {
        assertEquals(List.of(
                List.of("apt-get", "-q", "-o", "APT::Status-Fd=1", "update"),
                List.of("apt-get", "-q", "-y", "-o", "APT::Status-Fd=1", "-o", "Dpkg::Options::=--force-confdef",
                        "-o", "Dpkg::Options::=--force-confold", "upgrade")), PackageManager.APT.updateCommands());
    }

    @Test
    void dnfRefreshesAndUpgradesNonInteractively() {
        assertEquals(List.of(List.of("dnf", "-y", "--refresh", "upgrade")), PackageManager.DNF.updateCommands());
    }

    @Test
    void pacmanSyncsAndUpgradesWithoutQuestions() {
        assertEquals(List.of(List.of("pacman", "-Syu", "--noconfirm", "--noprogressbar")), PackageManager.PACMAN.updateCommands());
    }

    @Test
    void apkUpdatesItsIndexAndUpgrades() {
        assertEquals(List.of(List.of("apk", "upgrade", "--update-cache", "--no-progress")), PackageManager.APK.updateCommands());
    }

    @Test
    void labels() {
        assertEquals(List.of("apt", "dnf", "pacman", "apk"),
                java.util.Arrays.stream(PackageManager.values()).map(PackageManager::label).toList());
    }

    @Test
    void detectsEachFromItsProgram(@TempDir Path tmp) throws Exception {
        assertEquals(Optional.of(PackageManager.APT), detectWith(tmp.resolve("a"), "usr/bin/apt-get"));
        assertEquals(Optional.of(PackageManager.DNF), detectWith(tmp.resolve("d"), "usr/bin/dnf"));
        assertEquals(Optional.of(PackageManager.PACMAN), detectWith(tmp.resolve("p"), "usr/bin/pacman"));
        assertEquals(Optional.of(PackageManager.APK), detectWith(tmp.resolve("k"), "sbin/apk"));
        assertEquals(Optional.empty(), detectWith(tmp.resolve("none"), "usr/bin/bash"));
    }

    @Test
    void aRelativeLinkCountsButIsNotFollowedOutOfTheRoot(@TempDir Path tmp) throws Exception {
        Path root = tmp.resolve("fedora");
        Files.createDirectories(root.resolve("usr/bin"));
        Files.createSymbolicLink(root.resolve("usr/bin/dnf"), Path.of("dnf5"));   // dangling here, as dnf5 is absent
        assertEquals(Optional.of(PackageManager.DNF), PackageManager.detect(root));
    }

    @Test
    void aptWinsWhenSeveralArePresent(@TempDir Path tmp) throws Exception {
        touch(tmp, "usr/bin/dnf");
        touch(tmp, "usr/bin/apt-get");
        assertEquals(Optional.of(PackageManager.APT), PackageManager.detect(tmp));
    }

    @Test
    void realDebianImageIsApt() {
        Path image = Path.of("/var/lib/intervirt/images/debian/trixie/rootfs");
        if (Files.isDirectory(image)) {
            assertEquals(Optional.of(PackageManager.APT), PackageManager.detect(image));
        }
    }

    private static Optional<PackageManager> detectWith(Path root, String program) throws Exception {
        touch(root, program);
        return PackageManager.detect(root);
    }

    private static void touch(Path root, String program) throws Exception {
        Path p = root.resolve(program);
        Files.createDirectories(p.getParent());
        Files.writeString(p, "#!/bin/sh\n");
    }
}
