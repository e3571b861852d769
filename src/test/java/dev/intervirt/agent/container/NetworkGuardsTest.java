package dev.intervirt.agent.container;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NetworkGuardsTest {

    @Test
    void writesTheGuardsAndMasksIfupdown(@TempDir Path root) throws Exception {
        NetworkGuards.install(root);
        NetworkGuards.install(root); // idempotent
        String networkd = Files.readString(root.resolve("etc/systemd/network/00-intervirt-eth0.network"));
        assertTrue(networkd.contains("Name=eth0") && networkd.contains("Unmanaged=yes"), networkd);
        assertTrue(Files.readString(root.resolve("etc/NetworkManager/conf.d/00-intervirt-eth0.conf"))
                .contains("unmanaged-devices=interface-name:eth0"));
        Path masked = root.resolve("etc/systemd/system/networking.service");
        assertTrue(Files.isSymbolicLink(masked));
        assertEquals(Path.of("/dev/null"), Files.readSymbolicLink(masked));
    }

    @Test
    void neverFollowsALinkOutOfTheContainer(@TempDir Path tmp) throws Exception {
        Path root = Files.createDirectories(tmp.resolve("root"));
        Path outside = Files.createDirectories(tmp.resolve("outside"));
        Files.createDirectories(root.resolve("etc"));
        // A user of the container pointed its directories at the host's paths.
        Files.createSymbolicLink(root.resolve("etc/systemd"), outside);
        Files.createSymbolicLink(root.resolve("etc/NetworkManager"), outside);
        NetworkGuards.install(root);
        try (var s = Files.list(outside)) {
            assertEquals(0, s.count(), "nothing written through the links");
        }
    }

    @Test
    void replacesAFileLinkInsteadOfWritingThroughIt(@TempDir Path tmp) throws Exception {
        Path root = Files.createDirectories(tmp.resolve("root"));
        Path target = Files.writeString(tmp.resolve("host-file"), "host");
        Path dir = Files.createDirectories(root.resolve("etc/systemd/network"));
        Files.createSymbolicLink(dir.resolve("00-intervirt-eth0.network"), target);
        NetworkGuards.install(root);
        assertEquals("host", Files.readString(target), "the link's target is untouched");
        assertFalse(Files.isSymbolicLink(dir.resolve("00-intervirt-eth0.network")));
    }
}
