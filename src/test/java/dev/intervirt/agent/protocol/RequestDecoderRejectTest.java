package dev.intervirt.agent.protocol;

import jakarta.json.JsonObject;
import jakarta.json.JsonObjectBuilder;
import jakarta.json.JsonValue;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.StringReader;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/** Every validation rule gives a rejection with the right code, a message naming the field, and the refID rule. */
class RequestDecoderRejectTest {

    static final String UUID = "6f1c2a9e-7b3d-4c1e-8f0a-5d2b9e7c4a11";

    static final String ADD = "{\"type\":\"AddContainer\",\"uuid\":\"" + UUID + "\",\"id\":\"computer-93281\","
            + "\"ipv4\":\"192.168.7.12\",\"ipv6\":\"fd3:a:1f::5\",\"mac\":\"a:5b:2:67:c:ff\",\"internet\":false,"
            + "\"image\":\"debian/13\"}";
    static final String FWD = "{\"type\":\"AddPortForwarding\",\"uuid\":\"" + UUID + "\",\"id\":\"computer-1\","
            + "\"internalPort\":80,\"externalPort\":8080,\"protocol\":\"tcp\"}";

    static Inbound.Rejected rejected(String text) {
        Inbound in = RequestDecoders.withDefaultLimit().decode(text);
        return assertInstanceOf(Inbound.Rejected.class, in, () -> "expected Rejected for " + text + ", got " + in);
    }

    /** Rejected as unsupported, the request's uuid as refID, with a message that names {@code named}. */
    static void unsupportedNaming(String text, String named) {
        Inbound.Rejected r = rejected(text);
        assertEquals(ErrorCode.UNSUPPORTED, r.code());
        assertEquals(UUID, r.uuid());
        assertTrue(r.message().contains(named), r.message());
    }

    /** Rejected with code 8 and no refID (there was no usable uuid to answer to). */
    static Inbound.Rejected invalidWithoutRefId(String text) {
        Inbound.Rejected r = rejected(text);
        assertEquals(ErrorCode.INVALID, r.code());
        assertNull(r.uuid());
        return r;
    }

    /** Rejected with code 8, the request's uuid as refID, and a message that quotes the field. */
    static Inbound.Rejected invalidField(String text, String field) {
        Inbound.Rejected r = rejected(text);
        assertEquals(ErrorCode.INVALID, r.code(), () -> r.toString());
        assertEquals(UUID, r.uuid(), "refID is kept when the uuid was a string");
        assertNotNull(r.message());
        assertTrue(r.message().contains("\"" + field + "\""), () -> "message should name " + field + ": " + r.message());
        return r;
    }

    static JsonObject obj(String text) {
        try (var reader = jakarta.json.Json.createReader(new StringReader(text))) {
            return reader.readObject();
        }
    }

    static String with(String base, String key, JsonValue value) {
        return jakarta.json.Json.createObjectBuilder(obj(base)).add(key, value).build().toString();
    }

    static String with(String base, String key, String value) {
        return with(base, key, jakarta.json.Json.createValue(value));
    }

    static String without(String base, String key) {
        JsonObjectBuilder b = jakarta.json.Json.createObjectBuilder(obj(base));
        b.remove(key);
        return b.build().toString();
    }

    static JsonValue num(String literal) {
        return obj("{\"n\":" + literal + "}").get("n");
    }

    // ---- frames that are not requests ------------------------------------------------------

    @ParameterizedTest
    @ValueSource(strings = {"", "   ", "not json", "{", "{\"type\":", "{\"type\":\"Command\",}", "{'type':'Command'}",
            "}"})
    void notJson(String text) {
        Inbound.Rejected r = invalidWithoutRefId(text);
        assertFalse(r.message().isBlank());
    }

    @ParameterizedTest
    @ValueSource(strings = {"[]", "[{\"type\":\"Command\",\"uuid\":\"u\",\"command\":\"version\"}]", "42", "1.5",
            "\"AddContainer\"", "true", "null"})
    void jsonButNotAnObject(String text) {
        Inbound.Rejected r = invalidWithoutRefId(text);
        assertTrue(r.message().contains("object"), r.message());
    }

    @Test
    void deepNestingIsRejectedNotThrown() {
        Inbound.Rejected r = assertTimeoutPreemptively(Duration.ofSeconds(10),
                () -> rejected("[".repeat(65_000)));
        assertEquals(ErrorCode.INVALID, r.code());
        Inbound.Rejected r2 = assertTimeoutPreemptively(Duration.ofSeconds(10),
                () -> rejected("{\"type\":\"Command\",\"uuid\":\"" + UUID + "\",\"x\":" + "[".repeat(65_000)));
        assertEquals(ErrorCode.INVALID, r2.code());
    }

    @Test
    void aMessageOverTheLimitInUtf8BytesIsTooBig() {
        int limit = dev.intervirt.agent.app.AgentConfig.DEFAULT_MAX_MESSAGE_BYTES;
        assertInstanceOf(Inbound.Rejected.class, RequestDecoders.withDefaultLimit().decode("x".repeat(limit)));
        Inbound over = RequestDecoders.withDefaultLimit().decode("x".repeat(limit + 1));
        assertEquals(new Inbound.TooBig(limit + 1, limit), over);
        // 'é' is two bytes in UTF-8: half the characters reach the limit.
        assertInstanceOf(Inbound.Rejected.class, RequestDecoders.withDefaultLimit().decode("\u00e9".repeat(limit / 2)));
        assertInstanceOf(Inbound.TooBig.class, RequestDecoders.withDefaultLimit().decode("\u00e9".repeat(limit / 2) + "x"));
        assertInstanceOf(Inbound.TooBig.class, RequestDecoders.withDefaultLimit().decode("\ud83d\ude00".repeat(limit / 4) + "x"));
        // three bytes each: the most a char takes, where counting stops being skipped
        assertInstanceOf(Inbound.Rejected.class, RequestDecoders.withDefaultLimit().decode("\u20ac".repeat(limit / 3)));
        assertInstanceOf(Inbound.TooBig.class, RequestDecoders.withDefaultLimit().decode("\u20ac".repeat(limit / 3 + 1)));
    }

    @Test
    void missingType() {
        Inbound.Rejected r = invalidField("{\"uuid\":\"" + UUID + "\",\"id\":\"computer-1\"}", "type");
        assertEquals(UUID, r.uuid());
    }

    @Test
    void missingTypeWithoutUuidHasNoRefId() {
        Inbound.Rejected r = invalidWithoutRefId("{\"id\":\"computer-1\"}");
        assertTrue(r.message().contains("\"type\""), r.message());
    }

    @ParameterizedTest
    @ValueSource(strings = {"\"\"", "\"   \"", "null", "1", "true", "[\"AddContainer\"]", "{\"name\":\"AddContainer\"}"})
    void unusableType(String type) {
        invalidField("{\"type\":" + type + ",\"uuid\":\"" + UUID + "\"}", "type");
    }

    @Test
    void missingUuid() {
        Inbound.Rejected r = invalidWithoutRefId("{\"type\":\"StartContainer\",\"id\":\"computer-1\"}");
        assertTrue(r.message().contains("\"uuid\""), r.message());
        assertTrue(r.message().contains("missing"), r.message());
    }

    @ParameterizedTest
    @ValueSource(strings = {"1", "null", "true", "[\"x\"]", "{\"v\":\"x\"}"})
    void nonStringUuid(String uuid) {
        Inbound.Rejected r = rejected("{\"type\":\"StartContainer\",\"uuid\":" + uuid + ",\"id\":\"computer-1\"}");
        assertEquals(ErrorCode.INVALID, r.code());
        assertNull(r.uuid(), "a uuid that is not a string is not echoed");
        assertTrue(r.message().contains("\"uuid\""), r.message());
    }

    @Test
    void overlongUuidIsNotEchoed() {
        String longUuid = "u".repeat(RequestParser.MAX_UUID_LENGTH + 1);
        Inbound.Rejected r = invalidWithoutRefId("{\"type\":\"StartContainer\",\"uuid\":\"" + longUuid + "\",\"id\":\"computer-1\"}");
        assertTrue(r.message().contains("\"uuid\""), r.message());
        String maxUuid = "u".repeat(RequestParser.MAX_UUID_LENGTH);
        Inbound ok = RequestDecoders.withDefaultLimit().decode("{\"type\":\"StartContainer\",\"uuid\":\"" + maxUuid + "\",\"id\":\"computer-1\"}");
        assertEquals(maxUuid, assertInstanceOf(Inbound.Valid.class, ok).request().uuid());
    }

    @ParameterizedTest
    @ValueSource(strings = {"Nope", "addcontainer", "ADDCONTAINER", "Add Container", "IDWithNewIp", "command"})
    void unknownTypeIsUnsupported(String type) {
        unsupportedNaming("{\"type\":\"" + type + "\",\"uuid\":\"" + UUID + "\"}", type);
    }

    @Test
    void unknownTypeIsQuotedPrintably() {
        Inbound.Rejected r = rejected("{\"type\":\"X\\u202eY\\n\",\"uuid\":\"" + UUID + "\"}");
        assertEquals(ErrorCode.UNSUPPORTED, r.code());
        assertFalse(r.message().contains("\u202e"), r.message());
        assertFalse(r.message().contains("\n"), r.message());
    }

    @ParameterizedTest
    @ValueSource(strings = {"format", "Version", "WIPE", "wipe ", "", "halt"})
    void unknownCommandIsUnsupported(String command) {
        unsupportedNaming("{\"type\":\"Command\",\"uuid\":\"" + UUID + "\",\"command\":\"" + command + "\"}",
                "\"" + command + "\"");
    }

    @Test
    void commandMissingOrNotAString() {
        invalidField("{\"type\":\"Command\",\"uuid\":\"" + UUID + "\"}", "command");
        invalidField("{\"type\":\"Command\",\"uuid\":\"" + UUID + "\",\"command\":1}", "command");
        invalidField("{\"type\":\"Command\",\"uuid\":\"" + UUID + "\",\"command\":null}", "command");
    }

    // ---- missing fields --------------------------------------------------------------------

    static Stream<Arguments> requiredFields() {
        String id = "\"uuid\":\"" + UUID + "\"";
        return Stream.of(
                Arguments.of(ADD, "id"), Arguments.of(ADD, "ipv4"), Arguments.of(ADD, "ipv6"), Arguments.of(ADD, "mac"),
                Arguments.of(ADD, "internet"), Arguments.of(ADD, "image"),
                Arguments.of("{\"type\":\"RemoveContainer\"," + id + ",\"id\":\"c\"}", "id"),
                Arguments.of("{\"type\":\"StartContainer\"," + id + ",\"id\":\"c\"}", "id"),
                Arguments.of("{\"type\":\"StopContainer\"," + id + ",\"id\":\"c\"}", "id"),
                Arguments.of("{\"type\":\"IDWithNewIpv4\"," + id + ",\"id\":\"c\",\"newIP\":\"10.0.0.5\"}", "id"),
                Arguments.of("{\"type\":\"IDWithNewIpv6\"," + id + ",\"id\":\"c\",\"newIP\":\"fd00::5\"}", "id"),
                Arguments.of("{\"type\":\"Connect\"," + id + ",\"id1\":\"a\",\"id2\":\"b\"}", "id1"),
                Arguments.of("{\"type\":\"Connect\"," + id + ",\"id1\":\"a\",\"id2\":\"b\"}", "id2"),
                Arguments.of("{\"type\":\"Disconnect\"," + id + ",\"id1\":\"a\",\"id2\":\"b\"}", "id1"),
                Arguments.of("{\"type\":\"Disconnect\"," + id + ",\"id1\":\"a\",\"id2\":\"b\"}", "id2"),
                Arguments.of("{\"type\":\"SetInternetAccess\"," + id + ",\"id\":\"c\",\"enabled\":true}", "id"),
                Arguments.of("{\"type\":\"SetInternetAccess\"," + id + ",\"id\":\"c\",\"enabled\":true}", "enabled"),
                Arguments.of(FWD, "id"), Arguments.of(FWD, "internalPort"), Arguments.of(FWD, "externalPort"),
                Arguments.of(FWD, "protocol"),
                Arguments.of("{\"type\":\"RemovePortForwarding\"," + id + ",\"externalPort\":8080,\"protocol\":\"tcp\"}",
                        "externalPort"),
                Arguments.of("{\"type\":\"RemovePortForwarding\"," + id + ",\"externalPort\":8080,\"protocol\":\"tcp\"}",
                        "protocol"));
    }

    @ParameterizedTest
    @MethodSource("requiredFields")
    void eachRequiredFieldMissing(String request, String field) {
        // The base request is valid: make sure, so this test fails if the field were optional.
        assertInstanceOf(Inbound.Valid.class, RequestDecoders.withDefaultLimit().decode(request));
        Inbound.Rejected r = invalidField(without(request, field), field);
        assertTrue(r.message().contains("missing"), r.message());
    }

    @ParameterizedTest
    @MethodSource("requiredFields")
    void eachRequiredFieldNull(String request, String field) {
        invalidField(with(request, field, JsonValue.NULL), field);
    }

    @Test
    void newIpMissing() {
        Inbound.Rejected r4 = invalidField("{\"type\":\"IDWithNewIpv4\",\"uuid\":\"" + UUID + "\",\"id\":\"c\"}", "newIP");
        assertTrue(r4.message().contains("newIpv4"), r4.message());
        Inbound.Rejected r6 = invalidField("{\"type\":\"IDWithNewIpv6\",\"uuid\":\"" + UUID + "\",\"id\":\"c\"}", "newIP");
        assertTrue(r6.message().contains("newIpv6"), r6.message());
    }

    @Test
    void wrongAliasDoesNotCount() {
        invalidField("{\"type\":\"IDWithNewIpv4\",\"uuid\":\"" + UUID + "\",\"id\":\"c\",\"newIpv6\":\"10.0.0.5\"}", "newIP");
        invalidField("{\"type\":\"IDWithNewIpv6\",\"uuid\":\"" + UUID + "\",\"id\":\"c\",\"newIpv4\":\"fd00::5\"}", "newIP");
    }

    @Test
    void newIpAndAliasDisagree() {
        Inbound.Rejected r = invalidField("{\"type\":\"IDWithNewIpv4\",\"uuid\":\"" + UUID
                + "\",\"id\":\"c\",\"newIP\":\"10.0.0.5\",\"newIpv4\":\"10.0.0.6\"}", "newIP");
        assertTrue(r.message().contains("\"newIpv4\""), r.message());
        Inbound.Rejected r6 = invalidField("{\"type\":\"IDWithNewIpv6\",\"uuid\":\"" + UUID
                + "\",\"id\":\"c\",\"newIP\":\"fd00::5\",\"newIpv6\":\"fd00::6\"}", "newIP");
        assertTrue(r6.message().contains("\"newIpv6\""), r6.message());
    }

    @Test
    void invalidNewIpNamesTheFieldThatWasUsed() {
        invalidField("{\"type\":\"IDWithNewIpv4\",\"uuid\":\"" + UUID + "\",\"id\":\"c\",\"newIpv4\":\"127.0.0.1\"}", "newIpv4");
        invalidField("{\"type\":\"IDWithNewIpv4\",\"uuid\":\"" + UUID + "\",\"id\":\"c\",\"newIP\":\"127.0.0.1\"}", "newIP");
        invalidField("{\"type\":\"IDWithNewIpv6\",\"uuid\":\"" + UUID + "\",\"id\":\"c\",\"newIpv6\":\"::1\"}", "newIpv6");
        invalidField("{\"type\":\"IDWithNewIpv4\",\"uuid\":\"" + UUID + "\",\"id\":\"c\",\"newIpv4\":\"fd00::5\"}", "newIpv4");
        invalidField("{\"type\":\"IDWithNewIpv6\",\"uuid\":\"" + UUID + "\",\"id\":\"c\",\"newIpv6\":\"10.0.0.5\"}", "newIpv6");
    }

    // ---- wrong JSON types ------------------------------------------------------------------

    @ParameterizedTest
    @ValueSource(strings = {"\"yes\"", "1", "0", "\"true\"", "[]", "{}"})
    void internetMustBeBoolean(String value) {
        invalidField(with(ADD, "internet", num(value)), "internet");
        invalidField(with("{\"type\":\"SetInternetAccess\",\"uuid\":\"" + UUID + "\",\"id\":\"c\",\"enabled\":true}",
                "enabled", num(value)), "enabled");
    }

    @ParameterizedTest
    @ValueSource(strings = {"\"80\"", "80.5", "80.0", "0", "-1", "65536", "1e10", "1e400000000", "1.0e400000000",
            "99999999999999999999999", "true", "[80]"})
    void badPorts(String value) {
        assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
            invalidField(with(FWD, "internalPort", num(value)), "internalPort");
            invalidField(with(FWD, "externalPort", num(value)), "externalPort");
            invalidField(with("{\"type\":\"RemovePortForwarding\",\"uuid\":\"" + UUID
                    + "\",\"externalPort\":8080,\"protocol\":\"tcp\"}", "externalPort", num(value)), "externalPort");
        });
    }

    @ParameterizedTest
    @ValueSource(strings = {"\"icmp\"", "\"sctp\"", "\"\"", "\"tcp \"", "6", "null"})
    void badProtocols(String value) {
        invalidField(with(FWD, "protocol", num(value)), "protocol");
    }

    @ParameterizedTest
    @ValueSource(strings = {"id", "ipv4", "ipv6", "mac", "image"})
    void stringFieldsMustBeStrings(String field) {
        invalidField(with(ADD, field, num("1")), field);
        invalidField(with(ADD, field, num("[\"x\"]")), field);
    }

    // ---- invalid values --------------------------------------------------------------------

    @ParameterizedTest
    @ValueSource(strings = {".hidden", "-rf", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "a/b", "a b", "computer\u00e9", "\u0441omputer-1",
            "a\u0000b", "../x", "..", ".", "", "a\\b", "a:b", "a\nb", "computer-1\u202e"})
    void invalidIds(String id) {
        invalidField(with(ADD, "id", id), "id");
        invalidField(with("{\"type\":\"StartContainer\",\"uuid\":\"" + UUID + "\",\"id\":\"c\"}", "id", id), "id");
        invalidField(with("{\"type\":\"Connect\",\"uuid\":\"" + UUID + "\",\"id1\":\"a\",\"id2\":\"b\"}", "id2", id), "id2");
    }

    @Test
    void invalidIdIsQuotedPrintably() {
        Inbound.Rejected r = invalidField(with(ADD, "id", "a\u0000\u202eb"), "id");
        assertFalse(r.message().contains("\u0000"), r.message());
        assertFalse(r.message().contains("\u202e"), r.message());
    }

    @ParameterizedTest
    @ValueSource(strings = {"0.0.0.0", "0.1.2.3", "127.0.0.1", "127.255.0.1", "169.254.1.1", "169.254.0.1", "224.0.0.1",
            "239.255.255.255", "240.0.0.1", "255.255.255.255", "1.2.3", "1.2.3.4.5", "01.2.3.4", "1.2.3.4 ", " 1.2.3.4",
            "256.1.1.1", "1.2.3.-4", "0x7f.0.0.1", "localhost", "", "192.168.0.145/24", "fd00::5", "１.2.3.4"})
    void invalidIpv4(String value) {
        invalidField(with(ADD, "ipv4", value), "ipv4");
    }

    @ParameterizedTest
    @ValueSource(strings = {"::", "::1", "fe80::1", "febf::1", "ff02::1", "ff00::", "::ffff:1.2.3.4", "fe80::1%eth0",
            "fe80::1%1", "localhost", "fd00:3452", "1:2:3:4:5:6:7:8:9", "fd00::g", "", " fd00::1", "[fd00::1]",
            "192.168.0.1", "fd00::1/64", ".:1", "fd00:::1"})
    void invalidIpv6(String value) {
        invalidField(with(ADD, "ipv6", value), "ipv6");
    }

    @ParameterizedTest
    @ValueSource(strings = {"00:00:00:00:00:00", "0:0:0:0:0:0", "ff:ff:ff:ff:ff:ff", "FF:FF:FF:FF:FF:FF",
            "01:00:00:00:00:00", "1:0:0:0:0:0", "a:5b:2:67:c", "a:5b:2:67:c:ff:1", "a:5b:2:67:c:fff", "g1:5b:2:67:c:ff",
            "a-5b-2-67-c-ff", "a5b267cff0", "", "a:5b:2:67:c:", ":a:5b:2:67:c", "a::5b:2:67:c"})
    void invalidMacs(String value) {
        invalidField(with(ADD, "mac", value), "mac");
    }

    @ParameterizedTest
    @ValueSource(strings = {"debian", "debian/13/x", "../etc", "debian/..", "debian/../../etc", "/debian/13", "debian/",
            "/13", "deb ian/13", "debian/13 ", "debian\\13", "-debian/13", "debian/.13", "debian/xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", ""})
    void invalidImages(String value) {
        invalidField(with(ADD, "image", value), "image");
    }

    @Test
    void firstInvalidFieldOfManyIsReported() {
        // All wrong at once: still one rejection with code 8, not an exception.
        Inbound.Rejected r = rejected("{\"type\":\"AddContainer\",\"uuid\":\"" + UUID + "\",\"id\":\"../x\","
                + "\"ipv4\":\"0.0.0.0\",\"ipv6\":\"::\",\"mac\":\"00:00:00:00:00:00\",\"internet\":\"yes\",\"image\":\"x\"}");
        assertEquals(ErrorCode.INVALID, r.code());
        assertEquals(UUID, r.uuid());
        assertTrue(List.of("\"id\"", "\"ipv4\"", "\"ipv6\"", "\"mac\"", "\"internet\"", "\"image\"").stream()
                .anyMatch(r.message()::contains), r.message());
    }

    @Test
    void longValuesAreShortenedInMessages() {
        String id = "x".repeat(5000);
        Inbound.Rejected r = invalidField(with(ADD, "id", id), "id");
        assertTrue(r.message().length() < 1000, () -> "message too long: " + r.message().length());
    }
}
