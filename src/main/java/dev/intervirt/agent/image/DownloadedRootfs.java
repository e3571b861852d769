package dev.intervirt.agent.image;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.stream.Collectors;

/**
 * Makes a rootfs from the image server a good libvirt LXC root, as build-image.sh does for its
 * own builds. LXC's tarballs carry template placeholders ({@code LXC_NAME}) that LXC fills in
 * and libvirt does not. Only regular files directly inside a real {@code etc} directory are
 * touched: a link in the image must never lead a write onto the guest.
 */
final class DownloadedRootfs {

    private static final String PLACEHOLDER = "LXC_NAME";

    private DownloadedRootfs() {
    }

    static void adapt(Path rootfs) throws IOException {
        Path etc = rootfs.resolve("etc");
        if (!Files.isDirectory(etc, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        // No hostname file: the container keeps the one libvirt gives it (the domain name).
        Path hostname = etc.resolve("hostname");
        if (regular(hostname) && Files.readString(hostname, StandardCharsets.UTF_8).contains(PLACEHOLDER)) {
            Files.delete(hostname);
        }
        Path hosts = etc.resolve("hosts");
        if (regular(hosts)) {
            String text = Files.readString(hosts, StandardCharsets.UTF_8);
            if (text.contains(PLACEHOLDER)) {
                Files.writeString(hosts, text.lines().filter(l -> !l.contains(PLACEHOLDER))
                        .collect(Collectors.joining("\n", "", "\n")), StandardCharsets.UTF_8);
            }
        }
        // An empty machine-id: systemd takes the container's own from libvirt, not one shared by all.
        Path machineId = etc.resolve("machine-id");
        if (regular(machineId) && Files.size(machineId) > 0) {
            Files.writeString(machineId, "");
        }
    }

    private static boolean regular(Path p) {
        return Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS);
    }
}
