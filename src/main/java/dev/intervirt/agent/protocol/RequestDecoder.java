package dev.intervirt.agent.protocol;

import jakarta.json.JsonObject;
import jakarta.json.JsonValue;
import jakarta.json.bind.JsonbException;
import jakarta.websocket.Decoder;

/** JSON-B decoder of request frames; maps every failure to a rejection (code 7 or 8). */
public class RequestDecoder implements Decoder.Text<Inbound> {

    @Override
    public Inbound decode(String text) {
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

    @Override
    public boolean willDecode(String text) {
        return true;
    }
}
