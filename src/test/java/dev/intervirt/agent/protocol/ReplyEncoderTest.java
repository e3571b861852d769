package dev.intervirt.agent.protocol;

import jakarta.json.JsonNumber;
import jakarta.json.JsonObject;
import jakarta.json.JsonString;
import jakarta.json.JsonValue;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.StringReader;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/** The exact JSON the client sees: only known keys, no nulls, the values of the spec. */
class ReplyEncoderTest {

    static final Set<String> ALLOWED = Set.of("type", "refID", "error", "code", "progress", "output", "status", "version");
    static final String REF = "0b6c7f0e-3c1d-4b8e-9a55-2f7d1e6c9b01";

    /** Encodes the reply and asserts that it has exactly {@code keys}. */
    static JsonObject encodeWithKeys(Reply reply, String... keys) {
        JsonObject o = encode(reply);
        assertEquals(Set.of(keys), o.keySet());
        return o;
    }

    static JsonObject encode(Reply reply) {
        String text = new ReplyEncoder().encode(reply);
        assertNotNull(text);
        JsonObject o;
        try (var reader = jakarta.json.Json.createReader(new StringReader(text))) {
            o = reader.readObject();
        }
        for (Map.Entry<String, JsonValue> e : o.entrySet()) {
            assertTrue(ALLOWED.contains(e.getKey()), () -> "unexpected key " + e.getKey() + " in " + text);
            assertNotEquals(JsonValue.NULL, e.getValue(), () -> "null value for " + e.getKey() + " in " + text);
        }
        return o;
    }

    static String str(JsonObject o, String key) {
        return assertInstanceOf(JsonString.class, o.get(key), key).getString();
    }

    static JsonNumber number(JsonObject o, String key) {
        return assertInstanceOf(JsonNumber.class, o.get(key), key);
    }

    @Test
    void done() {
        JsonObject o = encodeWithKeys(Reply.done(REF), "type", "refID");
        assertEquals("General", str(o, "type"));
        assertEquals(REF, str(o, "refID"));
    }

    @Test
    void doneWithoutRefId() {
        JsonObject o = encodeWithKeys(Reply.done(null), "type");
    }

    @Test
    void doneWithNote() {
        JsonObject o = encodeWithKeys(Reply.doneWithNote(REF, "MAC 0b:5b:02:67:0c:ff is a group address; using 0a:5b:02:67:0c:ff"),
                "type", "refID", "output");
        assertEquals("General", str(o, "type"));
        assertEquals("MAC 0b:5b:02:67:0c:ff is a group address; using 0a:5b:02:67:0c:ff", str(o, "output"));
    }

    @Test
    void progress() {
        JsonObject o = encodeWithKeys(Reply.progress(REF, 0.9, "Shutting down container..."),
                "type", "refID", "progress", "output", "status");
        assertEquals("General", str(o, "type"));
        assertEquals(0.9, number(o, "progress").doubleValue(), 1e-12);
        assertEquals("Shutting down container...", str(o, "output"));
        assertEquals(-1, number(o, "status").intValueExact());
    }

    @Test
    void progressIsClamped() {
        assertEquals(1.0, number(encode(Reply.progress(REF, 1.5, "x")), "progress").doubleValue());
        assertEquals(0.0, number(encode(Reply.progress(REF, -0.5, "x")), "progress").doubleValue());
        assertEquals(1.0, number(encode(Reply.progress(REF, Double.POSITIVE_INFINITY, "x")), "progress").doubleValue());
        assertEquals(0.0, number(encode(Reply.progress(REF, Double.NEGATIVE_INFINITY, "x")), "progress").doubleValue());
    }

    @Test
    void progressOfNaNStillEncodes() {
        // A 0/0 somewhere must not make the message unencodable (the client would see nothing).
        JsonObject o = encode(Reply.progress(REF, Double.NaN, "x"));
        double p = number(o, "progress").doubleValue();
        assertTrue(p >= 0.0 && p <= 1.0, "progress " + p);
        assertEquals(-1, number(o, "status").intValueExact());
    }

    @ParameterizedTest
    @EnumSource(ErrorCode.class)
    void error(ErrorCode code) {
        JsonObject o = encodeWithKeys(Reply.error(REF, code, "Container computer-93281 doesn't exist."),
                "type", "refID", "error", "code");
        assertEquals("General", str(o, "type"));
        assertEquals(code.wire(), number(o, "code").intValueExact());
        assertEquals("Container computer-93281 doesn't exist.", str(o, "error"));
        assertNull(o.get("status"), "errors are final: no status");
    }

    @Test
    void errorWithoutText() {
        JsonObject o = encodeWithKeys(Reply.error(REF, ErrorCode.UNSUCCESSFUL, null), "type", "refID", "code");
        assertEquals(2, number(o, "code").intValueExact());
    }

    @Test
    void version() {
        JsonObject o = encodeWithKeys(Reply.version(REF, "1.2.3"), "type", "refID", "version");
        assertEquals("Version", str(o, "type"));
        assertEquals("1.2.3", str(o, "version"));
    }

    @Test
    void specialCharactersRoundTrip() {
        String tricky = "a\"b\\c\n\t\u0000\u202e</script>\u00e9\uD83D\uDE00";
        JsonObject o = encode(Reply.error(tricky, ErrorCode.GENERIC, tricky));
        assertEquals(tricky, str(o, "refID"));
        assertEquals(tricky, str(o, "error"));
        assertEquals(tricky, str(encode(Reply.progress(REF, 0.5, tricky)), "output"));
    }

    @Test
    void encodingIsOneLineOfJson() {
        String text = new ReplyEncoder().encode(Reply.progress(REF, 0.25, "line1\nline2"));
        assertFalse(text.contains("\n"), text);
        assertTrue(text.startsWith("{") && text.endsWith("}"), text);
    }

    @Test
    void errorCodesAreTheSpecsTable() {
        assertEquals(java.util.List.of(1, 2, 3, 4, 5, 6, 7, 8),
                Stream.of(ErrorCode.values()).map(ErrorCode::wire).toList());
        assertEquals(3, ErrorCode.ALREADY_DONE.wire());
        assertEquals(6, ErrorCode.NOT_FOUND.wire());
        assertEquals(7, ErrorCode.UNSUPPORTED.wire());
        assertEquals(8, ErrorCode.INVALID.wire());
    }
}
