package dev.intervirt.agent.protocol;

import jakarta.json.JsonObject;
import jakarta.json.JsonValue;
import jakarta.json.bind.JsonbException;
import jakarta.websocket.Decoder;

/** JSON-B decoder of request frames; maps every failure to a rejection (code 7 or 8). */
public class RequestDecoder implements Decoder.Text<Inbound> {

    @Override
    public Inbound decode(String text) {
        int limit = dev.intervirt.agent.app.AgentRuntime.config().maxMessageBytes();
        int bytes = utf8Length(text, limit);
        if (bytes > limit) {
            return new Inbound.TooBig(bytes, limit);
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
