package dev.intervirt.agent.protocol;

import dev.intervirt.agent.app.AgentConfig;
import jakarta.websocket.server.ServerEndpointConfig;

/** Decoders initialised as the WebSocket runtime initialises them: from an endpoint configuration. */
final class RequestDecoders {

    private RequestDecoders() {
    }

    static RequestDecoder withDefaultLimit() {
        return withLimit(AgentConfig.DEFAULT_MAX_MESSAGE_BYTES);
    }

    static RequestDecoder withLimit(Object limit) {
        RequestDecoder decoder = new RequestDecoder();
        decoder.init(endpointConfig(limit));
        return decoder;
    }

    /** An endpoint configuration with the limit as its user property; none when {@code limit} is null. */
    static ServerEndpointConfig endpointConfig(Object limit) {
        ServerEndpointConfig config = ServerEndpointConfig.Builder.create(Object.class, "/containerManagement").build();
        if (limit != null) {
            config.getUserProperties().put(RequestDecoder.MAX_MESSAGE_BYTES, limit);
        }
        return config;
    }
}
