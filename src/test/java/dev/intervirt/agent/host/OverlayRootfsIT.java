package dev.intervirt.agent.host;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A container's overlay on the real kernel: mounted once however often a start asks, seen as
 * mounted exactly when the mount table says so (the check is two stats now, not the table),
 * unmounted and removed without a trace. Its own state directory under /tmp, names of its own.
 */
class OverlayRootfsIT {

    private final Path state = Path.of("/tmp/ivtest-overlay-" + ProcessHandle.current().pid());
    private final OverlayRootfs rootfs = new OverlayRootfs(state);

    @AfterEach
    void cleanUp() throws IOException {
        rootfs.delete("c1");
        ProcessRunner.run(java.util.List.of("rm", "-rf", "--one-file-system", state.toString()));
    }

    @Test
    void mountedExactlyWhenTheMountTableSaysSo() throws IOException {
        Path image = Files.createDirectories(state.resolve("image"));
        Files.writeString(image.resolve("hello"), "from the image\n");
        Path root = rootfs.rootOf("c1");

        assertFalse(OverlayRootfs.isMounted(root), "nothing made yet");
        rootfs.create("c1");
        assertMounted(false, root);

        rootfs.mount("c1", image);
        assertMounted(true, root);
        assertEquals("from the image\n", Files.readString(root.resolve("hello")));
        rootfs.mount("c1", image); // a second start's mount: nothing more
        assertEquals(1, MountTable.read().stream().filter(m -> m.mountPoint().equals(root.toString())).count());

        rootfs.unmount("c1");
        assertMounted(false, root);
        rootfs.delete("c1");
        assertFalse(Files.exists(rootfs.dirOf("c1")));
    }

    private static void assertMounted(boolean expected, Path root) throws IOException {
        boolean inTable = MountTable.read().stream().anyMatch(m -> m.mountPoint().equals(root.toString()));
        assertEquals(expected, inTable, "the mount table");
        assertEquals(expected, OverlayRootfs.isMounted(root), "the device check");
    }
}
