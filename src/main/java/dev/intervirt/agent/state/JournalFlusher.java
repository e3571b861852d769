package dev.intervirt.agent.state;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Brings the journal's appended lines to the disk behind the replies, on a thread of its own.
 *
 * <p>An appended line is in the kernel's page cache before its request is answered, so a crash
 * or kill of the agent loses nothing acknowledged (CrashRecoveryIT kills it with SIGKILL). The
 * flush to the device (fdatasync: ~0.2 ms on this machine's disk, more on the guest's emulated
 * one) need not hold the reply: one flush, started 2 ms after the line that asks for it, covers
 * every line appended until then (group commit). Only a power cut or a kernel crash in those
 * few milliseconds can lose acknowledged lines, and then the journal still holds a clean prefix:
 * a torn or empty line ends the replay, and the next append cuts it off.
 */
final class JournalFlusher implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(JournalFlusher.class.getName());

    /** The flush itself, apart so that tests can count and slow it. */
    interface Flush {
        void run() throws IOException;
    }

    /** How long a line waits for others before its flush starts (the window a power cut could lose). */
    static final long GATHER_NANOS = 2_000_000;

    private final Flush flush;
    private final long gatherNanos;
    private Thread thread;
    /** Appends handed over so far, and how many of them a finished flush covers. */
    private long requested;
    private long flushed;
    private boolean closed;
    /** The last flush's failure, so that a failing disk is reported once, not at every change. */
    private String lastFailure;
    /** The thread waits for a line (not in its gathering pause, not flushing): only then is it woken. */
    private boolean waitingForLines;
    /** How often the thread came back from a wait (for tests: appends in the pause must not wake it). */
    private long wakeUps;

    JournalFlusher(Path journal) {
        this(() -> flush(journal));
    }

    JournalFlusher(Flush flush) {
        this(flush, GATHER_NANOS);
    }

    JournalFlusher(Flush flush, long gatherNanos) {
        this.flush = flush;
        this.gatherNanos = gatherNanos;
    }

    /** A line was appended: flush it soon. False once closed: the caller then flushes it itself. */
    synchronized boolean appended() {
        if (closed) {
            return false;
        }
        requested++;
        if (thread == null) {
            // Made at the first append, so a store that is only read starts no thread.
            thread = new Thread(this::loop, "journal-flush");
            thread.setDaemon(true);
            thread.start();
        }
        if (waitingForLines) {
            // Lines appended during the pause or a flush need no wake-up: the thread looks again
            // before it waits. Waking it for each was a thread switch per request (Connect
            // p50 -0.04 ms on two CPUs).
            notifyAll();
        }
        return true;
    }

    /** Waits until every line appended before this call is on the disk (or its flush failed and was logged). */
    synchronized void awaitFlushed() throws InterruptedException {
        long target = requested;
        while (flushed < target) {
            wait();
        }
    }

    private void loop() {
        while (true) {
            long target;
            synchronized (this) {
                try {
                    waitingForLines = true;
                    while (flushed == requested && !closed) {
                        wait();
                        wakeUps++;
                    }
                    waitingForLines = false;
                    // Let the request that woke us finish, and gather the lines of those right
                    // behind it: on two CPUs, a flush at once competed with them (Connect p50
                    // 0.56–0.61 ms with it, 0.48–0.52 after a 2 ms pause; 10 ms was no better).
                    long end = System.nanoTime() + gatherNanos;
                    for (long left = gatherNanos; left > 0 && !closed; left = end - System.nanoTime()) {
                        wait(left / 1_000_000, (int) (left % 1_000_000));
                        wakeUps++;
                    }
                } catch (InterruptedException e) {
                    return;
                }
                if (flushed == requested) {
                    return; // closed, and nothing left
                }
                target = requested;
            }
            try {
                flush.run();
                lastFailure = null;
            } catch (IOException | RuntimeException e) {
                // The lines stay in the page cache, which the kernel writes back on its own.
                String why = String.valueOf(e.getMessage());
                LOG.log(why.equals(lastFailure) ? Level.FINE : Level.WARNING,
                        "cannot flush the topology journal to the disk (kept in memory, written back by the kernel): " + why);
                LOG.log(Level.FINE, "flush failure detail", e);
                lastFailure = why;
            }
            synchronized (this) {
                flushed = target;
                notifyAll();
            }
        }
    }

    private static void flush(Path journal) throws IOException {
        try (FileChannel ch = FileChannel.open(journal, StandardOpenOption.WRITE)) {
            ch.force(false);
        } catch (NoSuchFileException e) {
            // Removed underneath: the next append notices and writes a (flushed) snapshot.
        }
    }

    synchronized long wakeUps() {
        return wakeUps;
    }

    /** Flushes what is left, then ends the thread. */
    @Override
    public void close() {
        Thread t;
        synchronized (this) {
            closed = true;
            notifyAll();
            t = thread;
        }
        if (t != null) {
            try {
                t.join(5_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
