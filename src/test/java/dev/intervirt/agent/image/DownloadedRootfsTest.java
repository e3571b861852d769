package dev.intervirt.agent.image;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

class DownloadedRootfsTest {

    @Test
    void lxcPlaceholdersAndTheSharedMachineIdGo(@TempDir Path root) throws Exception {
        Path etc = Files.createDirectories(root.resolve("etc"));
        Files.writeString(etc.resolve("hostname"), "LXC_NAME\n");
        Files.writeString(etc.resolve("hosts"), "127.0.0.1   localhost\n127.0.1.1   LXC_NAME\n::1 localhost\n");
        Files.writeString(etc.resolve("machine-id"), "0123456789abcdef0123456789abcdef\n");
        DownloadedRootfs.adapt(root);
        assertFalse(Files.exists(etc.resolve("hostname")));
        assertEquals("127.0.0.1   localhost\n::1 localhost\n", Files.readString(etc.resolve("hosts")));
        assertEquals("", Files.readString(etc.resolve("machine-id")));
    }

    @Test
    void aRealHostnameStaysAndLinksAreNeverFollowed(@TempDir Path tmp) throws Exception {
        Path outside = Files.writeString(tmp.resolve("outside-machine-id"), "guest-id\n");
        Path root = Files.createDirectories(tmp.resolve("root"));
        Path etc = Files.createDirectories(root.resolve("etc"));
        Files.writeString(etc.resolve("hostname"), "myhost\n");
        Files.createSymbolicLink(etc.resolve("machine-id"), outside);
        DownloadedRootfs.adapt(root);
        assertEquals("myhost\n", Files.readString(etc.resolve("hostname")));
        assertEquals("guest-id\n", Files.readString(outside), "a link out of the image is left alone");
    }

    @Test
    void anEtcThatIsALinkIsLeftAlone(@TempDir Path tmp) throws Exception {
        Path realEtc = Files.createDirectories(tmp.resolve("host-etc"));
        Files.writeString(realEtc.resolve("hostname"), "LXC_NAME\n");
        Path root = Files.createDirectories(tmp.resolve("root"));
        Files.createSymbolicLink(root.resolve("etc"), realEtc);
        DownloadedRootfs.adapt(root);
        assertTrue(Files.exists(realEtc.resolve("hostname")));
    }
}
