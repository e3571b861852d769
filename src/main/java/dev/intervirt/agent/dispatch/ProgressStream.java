package dev.intervirt.agent.dispatch;

import dev.intervirt.agent.concurrent.DaemonThreads;
import dev.intervirt.agent.protocol.Reply;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The progress messages of one streaming request. Once the stream has begun, the last message
 * is sent again whenever nothing went out for {@link #HEARTBEAT}, so the client never sees a
 * silent stream (it gives up after 30 s; the protocol promises a message every 5 s), even while
 * one step (a container's graceful stop, a package download) takes long. Progress never falls.
 */
final class ProgressStream implements Progress, AutoCloseable {

    static final Duration HEARTBEAT = Duration.ofSeconds(4);
    private static final long CHECK_MS = 250;
    private static final ScheduledExecutorService TIMER =
            Executors.newSingleThreadScheduledExecutor(DaemonThreads.named("progress-heartbeat"));

    private final String refId;
    private final Replier replier;
    private Reply last;
    private long lastSentNanos;
    private double highest;
    private ScheduledFuture<?> heartbeat;
    private boolean closed;

    ProgressStream(String refId, Replier replier) {
        this.refId = refId;
        this.replier = replier;
    }

    @Override
    public synchronized void report(double fraction, String output) {
        if (closed) {
            return;
        }
        highest = Math.max(highest, Double.isNaN(fraction) ? 0 : fraction);
        last = Reply.progress(refId, highest, output);
        send(last);
        if (heartbeat == null) {
            // Checked often, so a repeat goes out at most ~0.25 s after the 4 s of silence.
            heartbeat = TIMER.scheduleAtFixedRate(this::beat, CHECK_MS, CHECK_MS, TimeUnit.MILLISECONDS);
        }
    }

    private synchronized void beat() {
        if (!closed && last != null && System.nanoTime() - lastSentNanos >= HEARTBEAT.toNanos()) {
            send(last);
        }
    }

    private void send(Reply reply) {
        lastSentNanos = System.nanoTime();
        replier.send(reply);
    }

    /** Stops the heartbeat; the caller then sends the final message. */
    @Override
    public synchronized void close() {
        closed = true;
        if (heartbeat != null) {
            heartbeat.cancel(false);
        }
    }
}
