package dev.intervirt.agent.endpoint;

import dev.intervirt.agent.app.AgentConfig;
import dev.intervirt.agent.dispatch.RequestDispatcher;
import dev.intervirt.agent.protocol.ErrorCode;
import dev.intervirt.agent.protocol.Inbound;
import dev.intervirt.agent.protocol.Reply;
import dev.intervirt.agent.protocol.ReplyEncoder;
import dev.intervirt.agent.protocol.RequestDecoder;
import jakarta.enterprise.context.Dependent;
import jakarta.inject.Inject;
import jakarta.websocket.CloseReason;
import jakarta.websocket.OnClose;
import jakarta.websocket.OnError;
import jakarta.websocket.OnMessage;
import jakarta.websocket.OnOpen;
import jakarta.websocket.Session;
import jakarta.websocket.server.ServerEndpoint;

import java.nio.ByteBuffer;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The one WebSocket endpoint of the protocol. Frames are decoded by {@link RequestDecoder}, with
 * the message limit {@link AgentEndpointConfigurator} puts into the endpoint's configuration.
 * {@code @Dependent} makes it a bean in annotated discovery (CDI 4's default), one per session.
 */
@Dependent
@ServerEndpoint(value = "/containerManagement", decoders = RequestDecoder.class, encoders = ReplyEncoder.class,
        configurator = AgentEndpointConfigurator.class)
public class ContainerManagementEndpoint {

    private static final Logger LOG = Logger.getLogger(ContainerManagementEndpoint.class.getName());
    private static final String REPLIER = "intervirt.replier";
    /** A session's idle timeout: negative, never (see {@link #open}). */
    private static final long NEVER_IDLE_OUT = -1;

    @Inject
    RequestDispatcher dispatcher;

    @Inject
    AgentConfig config;

    @OnOpen
    public void open(Session session) {
        session.setMaxTextMessageBufferSize(config.maxMessageBytes());
        session.setMaxBinaryMessageBufferSize(config.maxMessageBytes());
        // Never idle out, as with 0, but negative: with 0 Tyrus 2.2 schedules a no-op timeout task
        // on its scheduler for every message in and out (two thread wake-ups per request).
        session.setMaxIdleTimeout(NEVER_IDLE_OUT);
        session.getUserProperties().put(REPLIER, new SessionReplier(session));
        LOG.fine(() -> "session " + session.getId() + " opened");
    }

    @OnMessage
    public void text(Inbound inbound, Session session) {
        SessionReplier replier = replier(session);
        if (inbound instanceof Inbound.Valid valid) {
            dispatcher.dispatch(valid.request(), replier);
        } else if (inbound instanceof Inbound.Rejected rejected) {
            LOG.info("rejected frame uuid=" + dev.intervirt.agent.protocol.Text.printable(rejected.uuid())
                    + " error " + rejected.code().wire() + ": " + rejected.message());
            replier.send(Reply.error(rejected.uuid(), rejected.code(), rejected.message()));
        } else if (inbound instanceof Inbound.TooBig big) {
            LOG.info("message of " + big.bytes() + " bytes over the limit of " + big.limit() + "; closing the connection (1009)");
            try {
                session.close(new CloseReason(CloseReason.CloseCodes.TOO_BIG,
                        "Message of " + big.bytes() + " bytes; the limit is " + big.limit() + "."));
            } catch (java.io.IOException e) {
                LOG.fine(() -> "close after an oversize message: " + e);
            }
        }
    }

    @OnMessage
    public void binary(ByteBuffer data, Session session) {
        LOG.info("rejected binary frame of " + data.remaining() + " bytes");
        replier(session).send(Reply.error(null, ErrorCode.INVALID,
                "Binary messages are not part of the protocol; send JSON text."));
    }

    @OnError
    public void error(Session session, Throwable error) {
        // Decoding never throws and the dispatcher catches everything: anything here is a bug or I/O.
        LOG.log(Level.WARNING, "session " + (session == null ? "?" : session.getId()) + ": " + error, error);
    }

    @OnClose
    public void close(Session session, CloseReason reason) {
        LOG.fine(() -> "session " + session.getId() + " closed: " + reason);
    }

    private static SessionReplier replier(Session session) {
        return (SessionReplier) session.getUserProperties().computeIfAbsent(REPLIER, k -> new SessionReplier(session));
    }
}
