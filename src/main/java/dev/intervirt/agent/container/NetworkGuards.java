package dev.intervirt.agent.container;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.logging.Logger;

/**
 * Keeps an image's own network configuration away from eth0, whose addresses and routes belong
 * to the agent: written into the container's root before each start (the container is not
 * running, so nothing races with it). systemd-networkd gets an {@code Unmanaged=yes} file that
 * sorts first, NetworkManager an {@code unmanaged-devices} entry, and ifupdown's
 * {@code networking.service} is masked (it would run a DHCP client on eth0).
 *
 * <p>The root is the container's, which its users may have changed: no symbolic link is
 * followed anywhere on the way, so a link cannot make the agent write outside the container.
 */
final class NetworkGuards {

    private static final Logger LOG = Logger.getLogger(NetworkGuards.class.getName());

    static final Map<String, String> FILES = Map.of(
            "etc/systemd/network/00-intervirt-eth0.network",
            "# Written by the Intervirt agent: eth0's addresses and routes are set from outside.\n"
                    + "[Match]\nName=eth0\n\n[Link]\nUnmanaged=yes\n",
            "etc/NetworkManager/conf.d/00-intervirt-eth0.conf",
            "# Written by the Intervirt agent: eth0's addresses and routes are set from outside.\n"
                    + "[keyfile]\nunmanaged-devices=interface-name:eth0\n");

    /** Masked units: a link to /dev/null, as {@code systemctl mask} makes. */
    static final String[] MASKED = {"etc/systemd/system/networking.service"};

    private NetworkGuards() {
    }

    static void install(Path root) {
        FILES.forEach((relative, content) -> {
            try {
                write(root, relative, content);
            } catch (IOException e) {
                LOG.warning("cannot write " + relative + " into " + root + ": " + e.getMessage());
            }
        });
        for (String relative : MASKED) {
            try {
                mask(root, relative);
            } catch (IOException e) {
                LOG.warning("cannot mask " + relative + " in " + root + ": " + e.getMessage());
            }
        }
    }

    private static void write(Path root, String relative, String content) throws IOException {
        Path file = safeParent(root, relative).resolve(Path.of(relative).getFileName());
        if (Files.isSymbolicLink(file)) {
            Files.delete(file);
        }
        try (OutputStream out = Files.newOutputStream(file, LinkOption.NOFOLLOW_LINKS, StandardOpenOption.CREATE,
                StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
            out.write(content.getBytes(StandardCharsets.UTF_8));
        }
    }

    private static void mask(Path root, String relative) throws IOException {
        Path link = safeParent(root, relative).resolve(Path.of(relative).getFileName());
        if (Files.isSymbolicLink(link) && Files.readSymbolicLink(link).equals(Path.of("/dev/null"))) {
            return;
        }
        Files.deleteIfExists(link);
        Files.createSymbolicLink(link, Path.of("/dev/null"));
    }

    /** Creates the parent directories of {@code relative} under {@code root}, refusing any link. */
    private static Path safeParent(Path root, String relative) throws IOException {
        Path dir = root;
        Path parent = Path.of(relative).getParent();
        for (Path part : parent) {
            dir = dir.resolve(part);
            if (Files.isSymbolicLink(dir)) {
                throw new IOException(dir + " is a symbolic link; not following it");
            }
            if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
                Files.createDirectory(dir);
            } else if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
                throw new IOException(dir + " is not a directory");
            }
        }
        return dir;
    }
}
