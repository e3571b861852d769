package dev.intervirt.agent.image;

import dev.intervirt.agent.value.ImageName;

/**
 * One downloadable root filesystem of a simplestreams product.
 *
 * @param name    the name the store files it under (from the product key: {@code debian/trixie})
 * @param product the product key ({@code debian:trixie:amd64:default})
 * @param version the version (build date, e.g. {@code 20251124_05:24}); the newest is chosen
 * @param path    path of the {@code root.tar.xz} item below the server's base URL
 * @param sha256  expected checksum (lower-case hex)
 * @param size    expected size in bytes (0 when the server does not say)
 */
public record ImageRelease(ImageName name, String product, String version, String path, String sha256, long size) {
}
