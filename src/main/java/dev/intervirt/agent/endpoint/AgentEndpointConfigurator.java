package dev.intervirt.agent.endpoint;

import dev.intervirt.agent.app.AgentConfig;
import dev.intervirt.agent.protocol.RequestDecoder;
import jakarta.enterprise.inject.spi.CDI;
import jakarta.websocket.HandshakeResponse;
import jakarta.websocket.server.HandshakeRequest;
import jakarta.websocket.server.ServerEndpointConfig;
import org.glassfish.tyrus.core.ServerEndpointConfigWrapper;

import java.util.Map;

/**
 * The endpoint's configuration from the agent's settings (the {@link AgentConfig} bean of CDI, in
 * the jar and in the WAR alike): puts the message limit where {@link RequestDecoder#init} reads it.
 * Endpoint instances stay CDI's (this class does not override {@code getEndpointInstance}).
 * <p>
 * When: Tyrus (the jar's, GlassFish's and Payara's) calls a decoder's {@code init} lazily, at the
 * first frame of each session, with the endpoint's own configuration; {@link #modifyHandshake}
 * runs before, during the session's handshake, but is handed a per-handshake copy of that
 * configuration whose user properties become the session's (Tyrus 2.1+). So the limit is put into
 * the endpoint's own configuration, the one the copy wraps.
 */
public class AgentEndpointConfigurator extends ServerEndpointConfig.Configurator {

    @Override
    public void modifyHandshake(ServerEndpointConfig sec, HandshakeRequest request, HandshakeResponse response) {
        Map<String, Object> properties = endpointConfig(sec).getUserProperties();
        // Shared by every session of the endpoint: written once, read by every decoder's init.
        synchronized (properties) {
            properties.computeIfAbsent(RequestDecoder.MAX_MESSAGE_BYTES,
                    k -> CDI.current().select(AgentConfig.class).get().maxMessageBytes());
        }
    }

    /** Whether the runtime is Tyrus (the jar's, GlassFish's, Payara's), whose copy is unwrapped. */
    private static final boolean TYRUS = present("org.glassfish.tyrus.core.ServerEndpointConfigWrapper");

    /** The endpoint's own configuration behind Tyrus' per-handshake copy (elsewhere: the one given). */
    static ServerEndpointConfig endpointConfig(ServerEndpointConfig sec) {
        return TYRUS ? TyrusCopy.unwrap(sec) : sec;
    }

    private static boolean present(String className) {
        try {
            Class.forName(className, false, AgentEndpointConfigurator.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }

    /** Tyrus' class named only here, so that another WebSocket runtime never loads it. */
    private static final class TyrusCopy {
        static ServerEndpointConfig unwrap(ServerEndpointConfig sec) {
            return sec instanceof ServerEndpointConfigWrapper copy ? copy.getWrapped() : sec;
        }
    }
}
