package dev.intervirt.agent.guest;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.*;

/** apt's status file descriptor lines, as apt-get -o APT::Status-Fd=N prints them. */
class AptStatusTest {

    @Test
    void installLineIsTheSecondHalf() {
        AptStatus s = AptStatus.parse("pmstatus:hello:42.8571:Unpacking hello (amd64)").orElseThrow();
        assertEquals("pmstatus", s.kind());
        assertEquals("hello", s.item());
        assertEquals(42.8571, s.percent(), 1e-9);
        assertEquals("Unpacking hello (amd64)", s.describe());
        assertEquals(0.5 + 0.428571 / 2, s.fraction(), 1e-6);
        assertFalse(s.isError());
    }

    @Test
    void downloadLineIsTheFirstHalf() {
        AptStatus s = AptStatus.parse("dlstatus:1:20:Retrieving file 1 of 5").orElseThrow();
        assertEquals(0.1, s.fraction(), 1e-9);
        assertEquals("Retrieving file 1 of 5", s.describe());
    }

    @Test
    void textMayContainColons() {
        AptStatus s = AptStatus.parse("pmstatus:libc6:amd64:50:Configuring libc6:amd64").orElse(null);
        // apt writes the package without its architecture; a colon in the text survives the split.
        AptStatus t = AptStatus.parse("pmstatus:dpkg-exec:75:Running dpkg: step 2").orElseThrow();
        assertEquals("Running dpkg: step 2", t.text());
        assertEquals(75, t.percent());
        assertNull(s, "a field that is not a number is not a status line");
    }

    @Test
    void errorsAndClamping() {
        AptStatus e = AptStatus.parse("pmerror:foo:60:trying to overwrite '/x'").orElseThrow();
        assertTrue(e.isError());
        assertEquals(100, AptStatus.parse("pmstatus:x:130:x").orElseThrow().percent());
        assertEquals(0, AptStatus.parse("dlstatus:x:-3:x").orElseThrow().percent());
        assertEquals("x", AptStatus.parse("pmstatus:x:10:").orElseThrow().describe(), "no text: the package");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "Reading package lists...", "pmstatus:x:y", "pmstatus:x:NaN:t", "pmstatus:x:abc:text",
            "media-change:x:y:z", "Get:1 file:/srv/ivrepo ./ ivdemo 2.0 [700 B]", "pmconffile:/etc/x:a:b"})
    void otherLinesAreNotStatus(String line) {
        assertTrue(AptStatus.parse(line).isEmpty(), line);
    }

    @Test
    void nullIsNotStatus() {
        assertTrue(AptStatus.parse(null).isEmpty());
    }
}
