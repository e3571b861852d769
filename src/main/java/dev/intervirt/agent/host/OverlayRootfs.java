package dev.intervirt.agent.host;

import com.sun.jna.LastErrorException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Copy-on-write root filesystems: an overlay whose lower layer is the shared image rootfs and
 * whose upper layer belongs to one container, under {@code <state-dir>/containers/<id>/}.
 */
public class OverlayRootfs {

    private final Path containersDir;

    public OverlayRootfs(Path stateDir) {
        this.containersDir = stateDir.resolve("containers");
        String s = containersDir.toString();
        if (s.contains(",") || s.contains(":")) {
            // overlayfs options are comma/colon separated
            throw new IllegalArgumentException("the state directory must not contain ',' or ':': " + s);
        }
    }

    public Path dirOf(String id) {
        return containersDir.resolve(id);
    }

    /** The mount point used as the container's root. */
    public Path rootOf(String id) {
        return dirOf(id).resolve("rootfs");
    }

    /**
     * The container's Docker directory (mounted at its /var/lib/docker), made if missing: on the
     * guest's filesystem, beside the overlay, so that Docker's overlay2 driver works; removed
     * with the container's other files.
     */
    public Path dockerDataOf(String id) {
        Path dir = dirOf(id).resolve("docker");
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw HostException.unavailable("Cannot create the Docker directory of container " + id + ": " + e.getMessage(), e);
        }
        return dir;
    }

    /** Creates the container's directories (nothing is mounted yet). */
    public Path create(String id) {
        Path dir = dirOf(id);
        try {
            Files.createDirectories(dir.resolve("upper"));
            Files.createDirectories(dir.resolve("work"));
            Files.createDirectories(dir.resolve("rootfs"));
        } catch (IOException e) {
            throw HostException.unavailable("Cannot create the files of container " + id + ": " + e.getMessage(), e);
        }
        return rootOf(id);
    }

    /** Mounts the overlay unless it is mounted already. */
    public void mount(String id, Path imageRootfs) {
        Path root = rootOf(id);
        if (isMounted(root)) {
            return;
        }
        if (!Files.isDirectory(dirOf(id).resolve("upper"))) {
            create(id);
        }
        String options = "lowerdir=" + imageRootfs + ",upperdir=" + dirOf(id).resolve("upper")
                + ",workdir=" + dirOf(id).resolve("work");
        if (imageRootfs.toString().contains(",") || imageRootfs.toString().contains(":")) {
            throw HostException.unavailable("The image path must not contain ',' or ':': " + imageRootfs);
        }
        mountOverlay(options, root, id);
    }

    /** {@code mount -t overlay overlay -o OPTIONS ROOT} as the system call itself: no process on the start path. */
    private static void mountOverlay(String options, Path root, String id) {
        try {
            MountSyscall.mount("overlay", root.toString(), "overlay", 0, options);
        } catch (LastErrorException e) {
            throw HostException.failed("Preparing the files of container " + id + " failed: mount -t overlay "
                    + "overlay -o " + options + " " + root + ": " + e.getMessage(), e);
        }
    }

    /** Unmounts the overlay if mounted (lazily if still busy). */
    public void unmount(String id) {
        Path root = rootOf(id);
        if (!isMounted(root)) {
            return;
        }
        ProcessRunner.Result r = ProcessRunner.exec(List.of("umount", root.toString()), null, 30);
        if (!r.ok() && isMounted(root)) {
            runMount(List.of("umount", "-l", root.toString()), id);
        }
    }

    /** Unmounts and deletes everything of the container. Idempotent. */
    public void delete(String id) {
        unmount(id);
        Path dir = dirOf(id);
        if (Files.exists(dir)) {
            // --one-file-system: never follow into a mount that is somehow still there.
            runMount(List.of("rm", "-rf", "--one-file-system", dir.toString()), id);
        }
    }

    /** Ids that have a directory here. */
    public Set<String> existing() {
        Set<String> ids = new HashSet<>();
        if (!Files.isDirectory(containersDir)) {
            return ids;
        }
        try (Stream<Path> s = Files.list(containersDir)) {
            s.forEach(p -> ids.add(p.getFileName().toString()));
        } catch (IOException e) {
            throw HostException.unavailable("Cannot list " + containersDir + ": " + e.getMessage(), e);
        }
        return ids;
    }

    public boolean isMounted(String id) {
        return isMounted(rootOf(id));
    }

    /**
     * Whether something is mounted on {@code mountPoint}: its device differs from its parent's
     * (two stats; the mount table grows with every running container and was read on every
     * start). Only where the stats fail is the table read.
     */
    static boolean isMounted(Path mountPoint) {
        Path target = mountPoint.toAbsolutePath().normalize();
        try {
            return !device(target).equals(device(target.getParent()));
        } catch (java.nio.file.NoSuchFileException e) {
            return false;
        } catch (IOException | UnsupportedOperationException e) {
            return inMountTable(target);
        }
    }

    private static Object device(Path p) throws IOException {
        return Files.getAttribute(p, "unix:dev", java.nio.file.LinkOption.NOFOLLOW_LINKS);
    }

    private static boolean inMountTable(Path target) {
        try {
            return MountTable.read().stream().anyMatch(m -> m.mountPoint().equals(target.toString()));
        } catch (IOException e) {
            throw HostException.unavailable("Cannot read the mount table: " + e.getMessage(), e);
        }
    }

    private static void runMount(List<String> command, String id) {
        try {
            ProcessRunner.run(command);
        } catch (CommandFailedException e) {
            throw HostException.failed("Preparing the files of container " + id + " failed: " + e.getMessage(), e);
        }
    }
}
