package dev.intervirt.agent.value;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.*;

class ImageNameTest {

    @ParameterizedTest
    @CsvSource({"debian/13, debian, 13", "debian/trixie, debian, trixie", "intervirtos/current, intervirtos, current",
            "fedora/43, fedora, 43", "archlinux/current, archlinux, current", "alpine/3.20, alpine, 3.20",
            "ubuntu/noble_x-1, ubuntu, noble_x-1", "0/0, 0, 0"})
    void parses(String text, String distribution, String release) {
        ImageName n = ImageName.parse(text);
        assertNotNull(n, text);
        assertEquals(distribution, n.distribution());
        assertEquals(release, n.release());
        assertEquals(text, n.toString());
    }

    @ParameterizedTest
    @ValueSource(strings = {"debian", "debian/13/x", "../etc", "debian/..", "../../etc/passwd", "debian/../x", "/debian/13",
            "debian/", "/13", "/", "", "Debian/13", "debian/Trixie", "deb ian/13", "debian/13\n", "-debian/13", "debian/-13",
            ".debian/13", "debian/.13", "_debian/13", "deb..ian/13", "debian/1..3", "debian\\13", "debian/13%2f..",
            "débian/13"})
    void refuses(String text) {
        assertNull(ImageName.parse(text), text);
    }

    @Test
    void lengthLimit() {
        String p32 = "a".repeat(32);
        assertNotNull(ImageName.parse(p32 + "/" + p32));
        assertNull(ImageName.parse("a".repeat(33) + "/13"));
        assertNull(ImageName.parse("debian/" + "a".repeat(33)));
    }

    @Test
    void parseOfNull() {
        assertNull(ImageName.parse(null));
    }

    @Test
    void constructorValidatesToo() {
        assertThrows(IllegalArgumentException.class, () -> new ImageName("..", "x"));
        assertThrows(IllegalArgumentException.class, () -> new ImageName("debian", "a/b"));
        assertThrows(IllegalArgumentException.class, () -> new ImageName("Debian", "13"));
        assertThrows(IllegalArgumentException.class, () -> new ImageName("a..b", "13"));
        assertEquals("debian/13", new ImageName("debian", "13").toString());
    }
}
