package dev.intervirt.agent.protocol;

import dev.intervirt.agent.support.AgentClient;
import dev.intervirt.agent.support.HostAudit;
import dev.intervirt.agent.support.LiveAgent;
import jakarta.json.Json;
import jakarta.json.JsonArrayBuilder;
import jakarta.json.JsonObject;
import jakarta.json.JsonObjectBuilder;
import jakarta.json.JsonString;
import jakarta.json.JsonValue;
import jakarta.websocket.CloseReason;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.io.InputStream;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;

import static dev.intervirt.agent.support.AgentClient.request;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Seeded fuzzing of the real endpoint: at least 10,000 generated frames (mutated valid
 * requests, random JSON, deep nesting, huge strings, unicode tricks, control characters,
 * numbers out of range, injections in every string field) and the hand-written corpus
 * {@code fuzz/nasty-frames.txt}. Every frame gets exactly one final reply with a protocol error
 * code (or a valid reply), addressed by its uuid when it has a readable one; the connection
 * stays usable, the agent stays up, and the host and the stored topology are unchanged.
 */
class FuzzIT {

    private static final long SEED = Long.getLong("intervirt.test.seed", 5150L);
    private static final int FRAMES = Integer.getInteger("intervirt.test.fuzzFrames", 10_000);
    private static final int WINDOW = 200;
    private static final Set<Integer> REJECTION_CODES = Set.of(3, 6, 7, 8);

    @RegisterExtension
    static final LiveAgent live = new LiveAgent();

    @BeforeAll
    static void start() {
        live.start();
        try (AgentClient c = live.agent().client()) {
            // One real container, so "unchanged" is about a non-empty state.
            assertTrue(c.call(request("AddContainer").add("id", "fzreal").add("ipv4", "10.66.0.2").add("ipv6", "fd66::2")
                    .add("mac", "02:66:00:00:00:02").add("internet", true).add("image", "debian/13")).ok());
        }
    }

    /** A frame and where its reply must go: its uuid, or "" (no refID). */
    record Frame(String text, String ref) {
    }

    @Test
    void tenThousandGeneratedFramesAndTheNastyCorpusChangeNothing() throws IOException {
        HostAudit audit = HostAudit.ofTestAgent();
        String stateBefore = audit.stored().toString();
        Set<String> domainsBefore = audit.domains();
        long t0 = System.nanoTime();
        Random rnd = new Random(SEED);
        Map<Integer, Integer> codes = new TreeMap<>();
        int sent = 0;
        try (AgentClient client = live.agent().client()) {
            while (sent < FRAMES) {
                List<Frame> window = new ArrayList<>();
                for (int i = 0; i < WINDOW && sent < FRAMES; i++, sent++) {
                    Frame f = generate(rnd);
                    window.add(f);
                    client.sendText(f.text());
                }
                for (Frame f : window) {
                    JsonObject reply = client.poll(f.ref(), Duration.ofSeconds(30));
                    assertNotNull(reply, () -> "no reply to " + abbreviated(f.text()));
                    codes.merge(check(f.text(), reply), 1, Integer::sum);
                }
                assertTrue(client.isOpen(), "the connection stays open");
            }
            assertEquals(0, client.pending(), "exactly one reply per frame");
            int corpus = sendCorpus(client, codes);
            assertTrue(corpus >= 60, "the corpus has its frames: " + corpus);
            assertEquals("Version", client.call(request("Command").add("command", "version")).last().getString("type"));
            System.out.printf("FuzzIT: seed %d, %d generated + %d corpus frames, reply codes %s, %.1f s%n", SEED, FRAMES,
                    corpus, codes, (System.nanoTime() - t0) / 1e9);
        }
        assertEquals(stateBefore, audit.stored().toString(), "the stored topology is unchanged");
        assertEquals(domainsBefore, audit.domains(), "no domain was created or removed");
        assertEquals(List.of(), audit.differences(), "host == stored state");
    }

    @Test
    void binaryAndOversizeFramesBehaveAsDocumented() {
        try (AgentClient client = live.agent().client()) {
            client.sendBinary(new byte[]{0, 1, 2, (byte) 0xff});
            JsonObject reply = client.awaitUnreferenced(Duration.ofSeconds(10));
            assertEquals(8, reply.getInt("code"), reply::toString);
            assertTrue(client.call(request("Command").add("command", "version")).ok(), "usable after a binary frame");
        }
        // The largest accepted message passes (and is rejected for its content), one byte more closes with 1009.
        try (AgentClient client = live.agent().client()) {
            String uuid = UUID.randomUUID().toString();
            String head = "{\"type\":\"Connect\",\"uuid\":\"" + uuid + "\",\"id1\":\"";
            String tail = "\",\"id2\":\"b\"}";
            String fits = head + "a".repeat(AgentConfigLimit.BYTES - head.length() - tail.length()) + tail;
            assertEquals(AgentConfigLimit.BYTES, fits.getBytes(StandardCharsets.UTF_8).length);
            client.sendText(fits);
            JsonObject r = client.poll(uuid, Duration.ofSeconds(10));
            assertNotNull(r, "a message of exactly the limit is answered");
            assertEquals(8, r.getInt("code"), r::toString);
            client.sendText(fits.replace(head, head + "a"));
            CloseReason reason = client.awaitClose(Duration.ofSeconds(10));
            assertNotNull(reason, "one byte over the limit closes the connection");
            assertEquals(1009, reason.getCloseCode().getCode(), reason::toString);
            assertFalse(client.isOpen());
        }
        // Far over the limit (larger than the WebSocket layer's read buffer): closed too.
        try (AgentClient client = live.agent().client()) {
            client.sendText("{\"type\":\"" + "x".repeat(4 << 20) + "\"}");
            CloseReason reason = client.awaitClose(Duration.ofSeconds(10));
            assertNotNull(reason, "a 4 MiB message closes the connection");
            System.out.println("FuzzIT: a 4 MiB message closed the connection with " + reason);
        } catch (IllegalStateException sendFailed) {
            // The agent closed the connection while the frame was still being sent: also closed.
        }
        try (AgentClient client = live.agent().client()) {
            assertTrue(client.call(request("Command").add("command", "version")).ok(), "the agent still serves new connections");
        }
    }

    /** The limit the test agent runs with (the default). */
    private static final class AgentConfigLimit {
        static final int BYTES = dev.intervirt.agent.app.AgentConfig.DEFAULT_MAX_MESSAGE_BYTES;
    }

    private static int check(String frame, JsonObject reply) {
        if ("Version".equals(reply.getString("type", ""))) {
            return 0;
        }
        assertTrue(reply.containsKey("code"), () -> "a rejection, not a success, for " + abbreviated(frame) + ": " + reply);
        int code = reply.getInt("code");
        assertTrue(REJECTION_CODES.contains(code), () -> "a protocol rejection code for " + abbreviated(frame) + ": " + reply);
        assertFalse(reply.getString("error", "").isBlank(), "an error text");
        return code;
    }

    private int sendCorpus(AgentClient client, Map<Integer, Integer> codes) throws IOException {
        List<String> lines;
        try (InputStream in = FuzzIT.class.getResourceAsStream("/fuzz/nasty-frames.txt")) {
            lines = new String(in.readAllBytes(), StandardCharsets.UTF_8).lines()
                    .filter(l -> !l.isBlank() && !l.startsWith("#")).toList();
        }
        for (String line : lines) {
            client.sendText(line);
            String ref = refOf(line);
            JsonObject reply = null;
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            // The test's JSON reader and the agent's may disagree on odd frames: accept either address.
            while (reply == null && System.nanoTime() < deadline) {
                reply = client.poll(ref, Duration.ofMillis(20));
                if (reply == null && !ref.isEmpty()) {
                    reply = client.poll("", Duration.ofMillis(1));
                }
            }
            assertNotNull(reply, "no reply to corpus frame " + line);
            codes.merge(check(line, reply), 1, Integer::sum);
            assertTrue(client.isOpen());
        }
        sleep(200);
        assertEquals(0, client.pending(), "no second reply to any corpus frame");
        return lines.size();
    }

    /** The refID the agent will use: the uuid of a JSON object when it is a string of at most 128 chars. */
    static String refOf(String text) {
        try {
            JsonValue v = Json.createReader(new StringReader(text)).readValue();
            if (v instanceof JsonObject o && o.get("uuid") instanceof JsonString s && s.getString().length() <= 128) {
                return s.getString();
            }
        } catch (RuntimeException e) {
            // not JSON
        }
        return "";
    }

    // ---- the generator ----------------------------------------------------------------------

    private static final String[] TYPES = {"AddContainer", "RemoveContainer", "StartContainer", "StopContainer",
            "IDWithNewIpv4", "IDWithNewIpv6", "Connect", "Disconnect", "SetInternetAccess", "AddPortForwarding",
            "RemovePortForwarding", "Command"};

    private static final String[] INJECTIONS = {"../../../etc/passwd", "..", "/", "a/../../b", "%2e%2e%2f", "\\..\\..\\",
            "<x/>", "</name><devices/>", "&amp;", "<!ENTITY x SYSTEM \"file:///etc/shadow\">", "'", "\"", "$(id)", "`id`",
            ";reboot", "| nc -l 1", "&& rm -rf /", "\n", "\r\n", "line\nflush ruleset", "\u0000", "a\u0000b", "\t",
            "\u001b[2J", "\u007f", "\u202e", "\u200b", "\ufeff", "\uffff", "\u0430", "ｉｄ", "e\u0301", "\ud83d\ude00",
            "{{7*7}}", "${jndi:ldap://127.0.0.1/a}", "%n%s%s", "-rf", "--help", "*", "?", "~", " ", "", "null",
            "1e999", "NaN", "-0", "0x41", "tcp } ; flush ruleset", "ivx1\" ; delete table bridge x ; \"",
            "10.0.0.1\n", "fd00::1%eth0", "ff:ff:ff:ff:ff:ff", "WIPE", "Wipe "};

    private Frame generate(Random rnd) {
        int kind = rnd.nextInt(100);
        if (kind < 8) {
            return new Frame(garbage(rnd), "");
        }
        if (kind < 13) {
            return new Frame(randomValue(rnd, 0).toString(), "");
        }
        if (kind < 16) {
            String open = rnd.nextBoolean() ? "[" : "{\"a\":";
            String close = open.equals("[") ? "]" : "}";
            // Within the message limit: 1,000 levels up to as many as fit in 60,000 bytes.
            int depth = 1000 + rnd.nextInt(60_000 / (open.length() + 1) - 1000);
            return new Frame("{\"type\":\"Connect\",\"x\":" + open.repeat(depth) + "1" + close.repeat(depth) + "}", "");
        }
        if (kind < 20) {
            // uuid attacks: wrong types, too long, or a nasty string (then it is the refID)
            JsonObjectBuilder b = validRequest(rnd);
            JsonValue u = switch (rnd.nextInt(4)) {
                case 0 -> Json.createValue("u".repeat(129));
                case 1 -> randomValue(rnd, 0);
                case 2 -> Json.createValue(injection(rnd));
                default -> JsonValue.NULL;
            };
            JsonObject o = b.add("uuid", u).build();
            return new Frame(o.toString(), refOf(o.toString()));
        }
        JsonObjectBuilder b = validRequest(rnd);
        String uuid = UUID.randomUUID().toString();
        JsonObject base = b.add("uuid", uuid).build();
        Map<String, JsonValue> fields = new LinkedHashMap<>(base);
        List<String> keys = new ArrayList<>(fields.keySet());
        keys.remove("uuid");
        int mutations = rnd.nextInt(3); // 0: a valid request on a container that does not exist
        for (int i = 0; i < mutations; i++) {
            String key = keys.get(rnd.nextInt(keys.size()));
            switch (rnd.nextInt(6)) {
                case 0 -> fields.remove(key);
                case 1 -> fields.put(key, randomValue(rnd, 0));
                case 2 -> fields.put(key, Json.createValue(injection(rnd)));
                case 3 -> fields.put(key, Json.createValue(fields.get(key) instanceof JsonString s
                        ? s.getString() + injection(rnd) : injection(rnd)));
                case 4 -> fields.put(key, Json.createValue("x".repeat(1 + rnd.nextInt(60_000))));
                default -> fields.put(key, outOfRange(rnd));
            }
            if (rnd.nextInt(10) == 0) {
                fields.put(injection(rnd), Json.createValue(injection(rnd)));
            }
        }
        JsonObjectBuilder out = Json.createObjectBuilder();
        fields.forEach(out::add);
        String text = out.build().toString();
        if (text.getBytes(StandardCharsets.UTF_8).length > 65_000) {
            return generate(rnd);
        }
        return new Frame(text, uuid);
    }

    /** A request that passes validation but names containers and ports that do not exist (code 6) or is version. */
    private static JsonObjectBuilder validRequest(Random rnd) {
        String type = TYPES[rnd.nextInt(TYPES.length)];
        String id = "ghost-" + rnd.nextInt(1000);
        JsonObjectBuilder b = Json.createObjectBuilder().add("type", type);
        return switch (type) {
            // An image that is not there: even a valid AddContainer creates nothing (code 6).
            case "AddContainer" -> b.add("id", id).add("ipv4", "10.99." + rnd.nextInt(256) + ".7").add("ipv6", "fd99::7")
                    .add("mac", "02:99:00:00:00:07").add("internet", rnd.nextBoolean()).add("image", "fuzz/missing");
            case "IDWithNewIpv4" -> b.add("id", id).add("newIpv4", "10.98.0." + rnd.nextInt(250));
            case "IDWithNewIpv6" -> b.add("id", id).add("newIpv6", "fd98::" + rnd.nextInt(250));
            case "Connect", "Disconnect" -> b.add("id1", id).add("id2", "ghost-x" + rnd.nextInt(9));
            case "SetInternetAccess" -> b.add("id", id).add("enabled", rnd.nextBoolean());
            case "AddPortForwarding" -> b.add("id", id).add("internalPort", 1 + rnd.nextInt(65535))
                    .add("externalPort", 1024 + rnd.nextInt(60000)).add("protocol", rnd.nextBoolean() ? "tcp" : "udp");
            case "RemovePortForwarding" -> b.add("externalPort", 1024 + rnd.nextInt(60000)).add("protocol", "udp");
            case "Command" -> b.add("command", "version");
            default -> b.add("id", id);
        };
    }

    private static String injection(Random rnd) {
        String s = INJECTIONS[rnd.nextInt(INJECTIONS.length)];
        return rnd.nextBoolean() ? s : "ghost-" + s;
    }

    private static JsonValue outOfRange(Random rnd) {
        return switch (rnd.nextInt(6)) {
            case 0 -> Json.createValue(-1);
            case 1 -> Json.createValue(65536);
            case 2 -> Json.createValue(Long.MAX_VALUE);
            case 3 -> Json.createValue(new java.math.BigDecimal("1e400"));
            case 4 -> Json.createValue(new java.math.BigInteger("9".repeat(50)));
            default -> Json.createValue(0.5);
        };
    }

    private static JsonValue randomValue(Random rnd, int depth) {
        int k = rnd.nextInt(depth > 3 ? 5 : 7);
        return switch (k) {
            case 0 -> JsonValue.NULL;
            case 1 -> rnd.nextBoolean() ? JsonValue.TRUE : JsonValue.FALSE;
            case 2 -> Json.createValue(rnd.nextLong());
            case 3 -> Json.createValue(rnd.nextDouble() * 1e300);
            case 4 -> Json.createValue(injection(rnd));
            case 5 -> {
                JsonArrayBuilder a = Json.createArrayBuilder();
                for (int i = rnd.nextInt(4); i > 0; i--) {
                    a.add(randomValue(rnd, depth + 1));
                }
                yield a.build();
            }
            default -> {
                JsonObjectBuilder o = Json.createObjectBuilder();
                for (int i = rnd.nextInt(4); i > 0; i--) {
                    o.add(injection(rnd), randomValue(rnd, depth + 1));
                }
                yield o.build();
            }
        };
    }

    /** Text that is not JSON: a truncated request, or random characters after an opening brace. */
    private static String garbage(Random rnd) {
        if (rnd.nextBoolean()) {
            String valid = validRequest(rnd).add("uuid", "g").build().toString();
            return valid.substring(0, 1 + rnd.nextInt(valid.length() - 2));
        }
        StringBuilder s = new StringBuilder("{");
        for (int i = rnd.nextInt(200); i > 0; i--) {
            s.append((char) rnd.nextInt(0x3000));
        }
        return s.append(",").toString();
    }

    private static String abbreviated(String s) {
        return s.length() > 300 ? s.substring(0, 300) + "…(" + s.length() + " chars)" : s;
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
