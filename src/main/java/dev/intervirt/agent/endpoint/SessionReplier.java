package dev.intervirt.agent.endpoint;

import dev.intervirt.agent.dispatch.Replier;
import dev.intervirt.agent.protocol.Reply;
import jakarta.websocket.EncodeException;
import jakarta.websocket.Session;

import java.io.IOException;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Sends replies on one WebSocket session. Basic-remote sends are not thread-safe, and replies
 * of concurrent requests come from several threads: sends are serialised per session.
 */
final class SessionReplier implements Replier {

    private static final Logger LOG = Logger.getLogger(SessionReplier.class.getName());
    private final Session session;

    SessionReplier(Session session) {
        this.session = session;
    }

    @Override
    public void send(Reply reply) {
        synchronized (this) {
            if (!session.isOpen()) {
                LOG.fine(() -> "session " + session.getId() + " closed; dropping reply to " + reply.refID());
                return;
            }
            try {
                session.getBasicRemote().sendObject(reply);
            } catch (IOException | EncodeException | IllegalStateException e) {
                LOG.log(Level.FINE, "cannot send reply to " + reply.refID() + " on session " + session.getId(), e);
            }
        }
    }
}
