package dev.intervirt.agent.protocol;

import jakarta.websocket.Encoder;

/** JSON-B encoder of replies; null fields are omitted. */
public class ReplyEncoder implements Encoder.Text<Reply> {

    @Override
    public String encode(Reply reply) {
        return Json.jsonb().toJson(reply);
    }
}
