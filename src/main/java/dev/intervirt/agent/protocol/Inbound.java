package dev.intervirt.agent.protocol;

/**
 * What the decoder hands the endpoint: a valid request, or a rejection with the code and
 * message to send back. The decoder never throws, so a bad frame never reaches
 * {@code @OnError} and never closes the connection.
 */
public sealed interface Inbound {

    record Valid(Request request) implements Inbound {
    }

    /**
     * A message over the size limit (in UTF-8 bytes): the connection is closed with 1009, as
     * documented. Checked here because the WebSocket layer lets messages somewhat over its
     * buffer size through.
     */
    record TooBig(int bytes, int limit) implements Inbound {
    }

    /** @param uuid the frame's uuid when it could be read, else null (then the reply has no refID) */
    record Rejected(String uuid, ErrorCode code, String message) implements Inbound {
    }
}
