package dev.intervirt.agent.image;

import dev.intervirt.agent.value.ImageName;
import jakarta.json.JsonObject;
import jakarta.json.JsonValue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The product list of a simplestreams server ({@code images.json}). Products are keyed
 * {@code distribution:release:arch:variant}; only the {@code default} variant of this machine's
 * architecture is used, found by key or by one of its {@code aliases} ({@code debian/13},
 * {@code alpine/current}, with or without the {@code /default} suffix).
 */
public final class ImageCatalog {

    /** The item types this agent can unpack, in order of preference. */
    static final String ROOT_TARBALL = "root.tar.xz";
    private static final Pattern HEX64 = Pattern.compile("[0-9a-f]{64}");

    private final JsonObject products;

    private ImageCatalog(JsonObject products) {
        this.products = products;
    }

    public static ImageCatalog parse(String imagesJson) {
        JsonObject products = StreamIndex.parse(imagesJson, "images.json").getJsonObject("products");
        if (products == null) {
            throw new ImageSourceException("images.json has no \"products\" object");
        }
        return new ImageCatalog(products);
    }

    /** The newest root tarball of the image, or empty when the server does not have it. */
    public Optional<ImageRelease> find(ImageName name, String arch) {
        String key = name.distribution() + ":" + name.release() + ":" + arch + ":default";
        JsonValue exact = products.get(key);
        if (exact instanceof JsonObject p) {
            return newest(key, p);
        }
        for (var e : products.entrySet()) {
            if (e.getValue() instanceof JsonObject p && e.getKey().endsWith(":" + arch + ":default")
                    && aliases(p).contains(name.toString())) {
                return newest(e.getKey(), p);
            }
        }
        return Optional.empty();
    }

    /** The product's aliases without the {@code /default} suffix. */
    static List<String> aliases(JsonObject product) {
        List<String> out = new ArrayList<>();
        for (String a : product.getString("aliases", "").split(",")) {
            String s = a.trim();
            if (s.endsWith("/default")) {
                s = s.substring(0, s.length() - "/default".length());
            }
            if (!s.isEmpty()) {
                out.add(s);
            }
        }
        return out;
    }

    /** The newest version that has a root tarball (see {@link VersionOrder}). */
    private static Optional<ImageRelease> newest(String key, JsonObject product) {
        String[] parts = key.split(":");
        ImageName canonical = ImageName.parse(parts[0] + "/" + parts[1]);
        JsonObject versions = product.getJsonObject("versions");
        if (canonical == null || versions == null) {
            return Optional.empty();
        }
        String[] names = versions.keySet().toArray(String[]::new);
        Arrays.sort(names, VersionOrder.INSTANCE);
        for (int i = names.length - 1; i >= 0; i--) {
            JsonObject items = versions.getJsonObject(names[i]).getJsonObject("items");
            if (items == null) {
                continue;
            }
            for (JsonValue v : items.values()) {
                if (v instanceof JsonObject item && ROOT_TARBALL.equals(item.getString("ftype", ""))) {
                    String sha = item.getString("sha256", "").toLowerCase();
                    String path = item.getString("path", "");
                    if (!HEX64.matcher(sha).matches() || path.isEmpty() || path.startsWith("/") || path.contains("..")) {
                        throw new ImageSourceException("images.json: the root.tar.xz item of " + key + " " + names[i]
                                + " has no valid sha256 or path");
                    }
                    long size = item.containsKey("size") ? item.getJsonNumber("size").longValue() : 0;
                    return Optional.of(new ImageRelease(canonical, key, names[i], path, sha, size));
                }
            }
        }
        return Optional.empty();
    }

    /** This machine's architecture as the image server names it. */
    public static String hostArch() {
        return switch (System.getProperty("os.arch")) {
            case "amd64", "x86_64" -> "amd64";
            case "aarch64", "arm64" -> "arm64";
            default -> System.getProperty("os.arch");
        };
    }
}
