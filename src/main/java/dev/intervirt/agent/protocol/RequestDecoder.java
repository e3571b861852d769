package dev.intervirt.agent.protocol;

import jakarta.json.JsonObject;
import jakarta.json.JsonValue;
import jakarta.json.bind.JsonbException;
import jakarta.websocket.Decoder;
import jakarta.websocket.EndpointConfig;

/**
 * JSON-B decoder of request frames; maps every failure to a rejection (code 7 or 8). Its message
 * limit comes from the endpoint's configuration: the user property {@link #MAX_MESSAGE_BYTES},
 * which the endpoint's configurator puts there from the agent's settings. A decoder without it
 * fails instead of guessing: a default would hide a wiring fault behind a limit the operator
 * did not set.
 */
public class RequestDecoder implements Decoder.Text<Inbound> {

    /** User property of the endpoint's configuration: the largest accepted message in UTF-8 bytes (an Integer). */
    public static final String MAX_MESSAGE_BYTES = "dev.intervirt.agent.protocol.maxMessageBytes";

    private int limit;

    /** Called by the WebSocket runtime before the first frame of a session is decoded. */
    @Override
    public void init(EndpointConfig config) {
        Object value = config.getUserProperties().get(MAX_MESSAGE_BYTES);
        if (!(value instanceof Integer bytes) || bytes <= 0) {
            throw new IllegalStateException("the endpoint's configuration has no positive Integer " + MAX_MESSAGE_BYTES
                    + " (found " + value + "); the endpoint's configurator puts it there");
        }
        limit = bytes;
    }

    @Override
    public Inbound decode(String text) {
        if (limit <= 0) {
            throw new IllegalStateException("RequestDecoder.decode before init(EndpointConfig): no message limit");
        }
        // At most 3 UTF-8 bytes per char: a message that fits even so is not counted (a
        // char-by-char loop on every request, most of the decoder's time before the JIT).
        if ((long) text.length() * 3 > limit) {
            int bytes = utf8Length(text, limit);
            if (bytes > limit) {
                return new Inbound.TooBig(bytes, limit);
            }
        }
        JsonValue value;
        try {
            value = Json.jsonb().fromJson(text, JsonValue.class);
        } catch (JsonbException | IllegalStateException | IllegalArgumentException e) {
            return new Inbound.Rejected(null, ErrorCode.INVALID, "The message is not valid JSON.");
        } catch (StackOverflowError e) {
            return new Inbound.Rejected(null, ErrorCode.INVALID, "The message is nested too deeply.");
        }
        if (!(value instanceof JsonObject object)) {
            return new Inbound.Rejected(null, ErrorCode.INVALID, "The message must be a JSON object with a \"type\" field.");
        }
        try {
            return new Inbound.Valid(RequestParser.parse(object));
        } catch (RequestParser.InvalidRequest e) {
            return new Inbound.Rejected(e.uuid(), e.code(), e.getMessage());
        }
    }

    /** The UTF-8 length of {@code s}, counted up to just past {@code limit}. */
    static int utf8Length(String s, int limit) {
        if (s.length() > limit) {
            return s.length(); // at least one byte per char
        }
        int n = 0;
        for (int i = 0; i < s.length() && n <= limit; i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                n++;
            } else if (c < 0x800) {
                n += 2;
            } else if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                n += 4;
                i++;
            } else {
                n += 3;
            }
        }
        return n;
    }

    @Override
    public boolean willDecode(String text) {
        return true;
    }
}
