package dev.intervirt.agent.image;

import dev.intervirt.agent.value.ImageName;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;

/**
 * The image store's release aliases ({@code debian/13} is {@code debian/trixie}), from the
 * class-path resource {@code aliases.properties} beside this class: the one table, which
 * {@code scripts/lib.sh} reads too. A missing or malformed table fails the class's loading.
 */
final class ImageAliases {

    static final String RESOURCE = "aliases.properties";
    private static final Map<ImageName, ImageName> ALIASES = load();

    private ImageAliases() {
    }

    /** The name the store files the image under; the name itself when it is no alias. */
    static ImageName canonical(ImageName name) {
        return ALIASES.getOrDefault(name, name);
    }

    /** Every alias with its target, as the resource lists them. */
    static Map<ImageName, ImageName> all() {
        return ALIASES;
    }

    private static Map<ImageName, ImageName> load() {
        Properties table = new Properties();
        try (InputStream in = ImageAliases.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("the image alias table " + RESOURCE + " is missing from the class path");
            }
            table.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the image alias table " + RESOURCE, e);
        }
        Map<ImageName, ImageName> aliases = new HashMap<>();
        for (String key : table.stringPropertyNames()) {
            ImageName alias = ImageName.parse(key);
            ImageName target = alias == null ? null : ImageName.parse(alias.distribution() + "/" + table.getProperty(key));
            if (target == null || target.equals(alias)) {
                throw new IllegalStateException("bad line in the image alias table " + RESOURCE + ": " + key + "="
                        + table.getProperty(key) + " (expected DISTRIBUTION/ALIAS=RELEASE)");
            }
            aliases.put(alias, target);
        }
        return Map.copyOf(aliases);
    }
}
