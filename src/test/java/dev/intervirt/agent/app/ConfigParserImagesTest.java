package dev.intervirt.agent.app;

import dev.intervirt.agent.image.ImageSettings;
import dev.intervirt.agent.value.ImageName;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** --image-server, --prefetch-images, --image-builder and their variables. */
class ConfigParserImagesTest {

    @Test
    void defaultsAreThePublicServerAndTheClientsCatalogue() throws Exception {
        ImageSettings s = ConfigParser.parse(new String[0], Map.of()).images();
        assertEquals("https://images.linuxcontainers.org", s.server());
        assertEquals(List.of("intervirtos/current", "debian/trixie", "fedora/43", "archlinux/current"),
                s.prefetch().stream().map(ImageName::toString).toList());
    }

    @Test
    void flagsWinOverVariablesAndEmptyDisables() throws Exception {
        Map<String, String> env = Map.of("INTERVIRT_IMAGE_SERVER", "http://127.0.0.1:8080/",
                "INTERVIRT_PREFETCH_IMAGES", "debian/13, alpine/current", "INTERVIRT_IMAGE_BUILDER", "/opt/build image");
        ImageSettings fromEnv = ConfigParser.parse(new String[0], env).images();
        assertEquals("http://127.0.0.1:8080/", fromEnv.server());
        assertEquals(List.of(ImageName.parse("debian/13"), ImageName.parse("alpine/current")), fromEnv.prefetch());
        assertEquals(List.of("/opt/build", "image"), fromEnv.builder());

        ImageSettings flags = ConfigParser.parse(new String[]{"--image-server", "none", "--prefetch-images=",
                "--image-builder", ""}, env).images();
        assertEquals("", flags.server());
        assertEquals(List.of(), flags.prefetch());
        assertEquals(List.of(), flags.builder());
    }

    @Test
    void emptyVariablesDisableToo() throws Exception {
        ImageSettings s = ConfigParser.parse(new String[0], Map.of("INTERVIRT_IMAGE_SERVER", "",
                "INTERVIRT_PREFETCH_IMAGES", "")).images();
        assertEquals("", s.server());
        assertEquals(List.of(), s.prefetch());
    }

    @Test
    void badValuesAreRefusedWithTheFlagNamed() {
        var e = assertThrows(ConfigParser.UsageException.class,
                () -> ConfigParser.parse(new String[]{"--image-server", "ftp://x"}, Map.of()));
        assertTrue(e.getMessage().contains("--image-server"), e.getMessage());
        e = assertThrows(ConfigParser.UsageException.class,
                () -> ConfigParser.parse(new String[]{"--prefetch-images", "debian/13,../etc"}, Map.of()));
        assertTrue(e.getMessage().contains("--prefetch-images") && e.getMessage().contains("../etc"), e.getMessage());
    }
}
