package dev.intervirt.agent.image;

import dev.intervirt.agent.value.ImageName;

import java.util.List;

/**
 * Where images come from besides the local store.
 *
 * @param server   base URL of a simplestreams image server; empty = none
 * @param prefetch images fetched or built in the background at agent start; empty = none
 * @param builder  command that builds an image locally, the image name appended
 *                 (scripts/build-image.sh); empty = no local builder
 */
public record ImageSettings(String server, List<ImageName> prefetch, List<String> builder) {

    public static final String DEFAULT_SERVER = "https://images.linuxcontainers.org";

    /** The client's catalogue. */
    public static final List<ImageName> DEFAULT_PREFETCH = List.of(ImageName.parse("intervirtos/current"),
            ImageName.parse("debian/trixie"), ImageName.parse("fedora/43"), ImageName.parse("archlinux/current"));

    public ImageSettings {
        prefetch = List.copyOf(prefetch);
        builder = List.copyOf(builder);
    }

    /** Only the local store: what tests use unless they start their own server. */
    public static ImageSettings localOnly() {
        return new ImageSettings("", List.of(), List.of());
    }

    public ImageSettings withServer(String value) {
        return new ImageSettings(value, prefetch, builder);
    }

    public ImageSettings withPrefetch(List<ImageName> value) {
        return new ImageSettings(server, value, builder);
    }

    public ImageSettings withBuilder(List<String> value) {
        return new ImageSettings(server, prefetch, value);
    }

    /**
     * {@code scripts/build-image.sh} of the project the agent runs from (the jar in
     * {@code target/}), or none when the agent runs elsewhere.
     */
    public static List<String> defaultBuilder() {
        try {
            var source = ImageSettings.class.getProtectionDomain().getCodeSource();
            if (source == null) {
                return List.of();
            }
            java.nio.file.Path p = java.nio.file.Path.of(source.getLocation().toURI()).toAbsolutePath();
            for (int up = 0; up < 3 && p != null; up++, p = p.getParent()) {
                java.nio.file.Path script = p.resolve("scripts/build-image.sh");
                if (java.nio.file.Files.isExecutable(script)) {
                    return List.of(script.toString());
                }
            }
        } catch (java.net.URISyntaxException | RuntimeException e) {
            // no builder: images come from the store and the server only
        }
        return List.of();
    }
}
