package dev.intervirt.agent.image;

import dev.intervirt.agent.protocol.AgentException;
import dev.intervirt.agent.value.ImageName;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * The local image store: {@code <image-dir>/<distribution>/<release>/rootfs}, with the release
 * aliases the image server uses ({@code debian/13} is {@code debian/trixie}).
 */
public class ImageStore {

    private static final Map<String, Map<String, String>> ALIASES = Map.of(
            "debian", Map.of("13", "trixie", "12", "bookworm", "14", "forky", "current", "trixie", "default", "trixie"));

    private final Path imageDir;

    public ImageStore(Path imageDir) {
        this.imageDir = imageDir;
    }

    /** The name the store files the image under ({@code debian/13} → {@code debian/trixie}). */
    public static ImageName canonical(ImageName name) {
        String release = ALIASES.getOrDefault(name.distribution(), Map.of()).getOrDefault(name.release(), name.release());
        return new ImageName(name.distribution(), release);
    }

    public Path rootfsPath(ImageName name) {
        ImageName c = canonical(name);
        return imageDir.resolve(c.distribution()).resolve(c.release()).resolve("rootfs");
    }

    /** The image's rootfs, or a code-6 error naming the image and how to get it. */
    public Path resolve(ImageName name) {
        Path rootfs = rootfsPath(name);
        if (!Files.isExecutable(rootfs.resolve("sbin/init")) && !Files.isSymbolicLink(rootfs.resolve("sbin/init"))) {
            throw AgentException.notFound("Image " + name + " is not available on this guest (looked in " + rootfs
                    + "). Build it with: ./intervirt image " + name);
        }
        return rootfs;
    }
}
