package dev.intervirt.agent.protocol;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.*;

class TextTest {

    @Test
    void nullIsEmpty() {
        assertEquals("", Text.printable(null));
    }

    @ParameterizedTest
    @ValueSource(strings = {"computer-93281", "Grüße, 世界", "a \"quoted\" \\ value"})
    void plainTextIsKept(String text) {
        assertEquals(text, Text.printable(text));
    }

    @Test
    void controlCharactersAreEscaped() {
        assertEquals("a\\u000ab", Text.printable("a\nb"));
        assertEquals("a\\u0000b", Text.printable("a\u0000b"));
        assertEquals("\\u001b[31mred", Text.printable("\u001b[31mred"));
        assertEquals("\\u007f\\u0085", Text.printable("\u007f\u0085"));
        assertEquals("tab\\u0009", Text.printable("tab\t"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"\u202e", "\u202a", "\u202d", "\u2066", "\u2069", "\u200b", "\u200f", "\ufeff", "\u2028",
            "\u2029", "\u00ad"})
    void formatAndSeparatorCharactersAreEscaped(String ch) {
        String out = Text.printable("x" + ch + "y");
        assertFalse(out.contains(ch), out);
        assertEquals("x" + String.format("\\u%04x", (int) ch.charAt(0)) + "y", out);
    }

    @Test
    void bidiOverrideCannotReorderTheMessage() {
        String out = Text.printable("computer-1\u202etxt.exe");
        assertEquals("computer-1\\u202etxt.exe", out);
    }

    @ParameterizedTest
    @CsvSource({"a\ud800b, a\\ud800b", "\udc00, \\udc00", "\uD83D\uDE00, \uD83D\uDE00"})
    void loneSurrogatesAreEscapedButPairsKept(String text, String printed) {
        assertEquals(printed, Text.printable(text));
    }

    @Test
    void longStringsAreTruncatedTo64CodePoints() {
        assertEquals("x".repeat(64), Text.printable("x".repeat(64)), "64 is not shortened");
        assertEquals("x".repeat(64) + "…", Text.printable("x".repeat(65)));
        assertEquals("x".repeat(64) + "…", Text.printable("x".repeat(100_000)));
    }

    @Test
    void truncationCountsCodePointsNotChars() {
        String emoji = "\uD83D\uDE00";
        String out = Text.printable(emoji.repeat(70));
        assertEquals(emoji.repeat(64) + "…", out);
        assertEquals(emoji.repeat(64), Text.printable(emoji.repeat(64)));
    }

    @Test
    void truncationAppliesBeforeEscapingSoOutputIsBounded() {
        String out = Text.printable("\n".repeat(1000));
        assertEquals("\\u000a".repeat(64) + "…", out);
    }
}
