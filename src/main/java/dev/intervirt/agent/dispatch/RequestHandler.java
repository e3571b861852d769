package dev.intervirt.agent.dispatch;

import dev.intervirt.agent.protocol.Reply;
import dev.intervirt.agent.protocol.Request;

import java.util.List;

/**
 * The one place for one request type: what it locks (its lanes), what it does, how it reports.
 * One CDI bean per {@link Request} record type; {@link HandlerRegistry} refuses to start when a
 * type has none, so a request type cannot ship without its handling.
 */
public interface RequestHandler<T extends Request> {

    /** The record type this handles. */
    Class<T> type();

    /**
     * The ordering lanes the request holds while it runs: its containers by default; more keys
     * (a forward's port) or {@link KeyedSerialExecutor#ALL} (guest-wide commands) where it needs them.
     */
    default List<String> lanes(T request) {
        return request.containerIds();
    }

    /** Answered at once on the connection's thread, without a lane (nothing to order it against). */
    default boolean immediate(T request) {
        return false;
    }

    /**
     * Short enough (a few kernel changes, milliseconds at most) to run on the connection's own
     * thread when its lanes are free, instead of being handed to a pool thread; the connection's
     * next message is read once it is done. Long work (libvirt, images, waits) never is.
     */
    default boolean quick(T request) {
        return false;
    }

    /**
     * Does the request and returns its final reply. Progress goes to {@code progress}; work that
     * must wait until the reply is out (powering the guest off) goes to {@code afterReply}.
     * Failures are thrown (protocol or host exceptions) and become error replies in the dispatcher.
     */
    Reply handle(T request, Progress progress, List<Runnable> afterReply);
}
