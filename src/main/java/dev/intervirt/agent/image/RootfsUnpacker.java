package dev.intervirt.agent.image;

import dev.intervirt.agent.host.ProcessRunner;

import java.nio.file.Path;
import java.util.List;

/**
 * Unpacks a root tarball with GNU tar. Not a Java library: a root filesystem needs numeric
 * owners, file capabilities and other xattrs (ping's cap_net_raw), hard links and device
 * nodes restored exactly, plus xz; tar does all of it, is on every guest, and refuses
 * members that would land outside the target ({@code ..}, absolute paths).
 */
public final class RootfsUnpacker {

    private static final long TIMEOUT_SECONDS = 1800;

    private RootfsUnpacker() {
    }

    public static void unpack(Path tarball, Path targetDir) {
        List<String> command = List.of("tar", "--extract", "--xz", "--file=" + tarball, "--directory=" + targetDir,
                "--numeric-owner", "--same-permissions", "--xattrs", "--xattrs-include=*", "--same-owner");
        ProcessRunner.Result r = ProcessRunner.exec(command, null, TIMEOUT_SECONDS);
        if (!r.ok()) {
            throw new ImageSourceException("unpacking " + tarball.getFileName() + " failed (tar exit " + r.exitCode() + "): "
                    + lastLines(r.stderr()));
        }
    }

    private static String lastLines(String text) {
        String[] lines = text.strip().split("\n");
        return String.join(" / ", List.of(lines).subList(Math.max(0, lines.length - 3), lines.length));
    }
}
