package dev.intervirt.agent.image;

import dev.intervirt.agent.value.ImageName;
import jakarta.json.Json;

import java.time.Instant;

/** The {@code image.json} beside a rootfs: where the image came from (written last, before the rename). */
final class ImageMetadata {

    private ImageMetadata() {
    }

    static String downloaded(ImageName name, String server, ImageRelease release) {
        return Json.createObjectBuilder()
                .add("distribution", name.distribution())
                .add("release", name.release())
                .add("source", "simplestreams")
                .add("server", server)
                .add("product", release.product())
                .add("version", release.version())
                .add("sha256", release.sha256())
                .add("size_bytes", release.size())
                .add("fetched_at", Instant.now().toString())
                .build().toString() + "\n";
    }
}
