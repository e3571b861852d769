package dev.intervirt.agent.state;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.*;

@Timeout(20)
class JournalFlusherTest {

    @TempDir
    Path dir;

    /** A flush that counts its runs and, while {@code gate} is closed, holds the first one. */
    static final class HeldFlush implements JournalFlusher.Flush {
        final AtomicInteger runs = new AtomicInteger();
        final CountDownLatch started = new CountDownLatch(1);
        final CountDownLatch gate = new CountDownLatch(1);

        @Override
        public void run() {
            runs.incrementAndGet();
            started.countDown();
            try {
                gate.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Test
    void oneFlushCoversEveryLineAppendedWhileTheOneBeforeRan() throws Exception {
        HeldFlush flush = new HeldFlush();
        try (JournalFlusher flusher = new JournalFlusher(flush)) {
            assertTrue(flusher.appended());
            assertTrue(flush.started.await(5, TimeUnit.SECONDS));
            for (int i = 0; i < 100; i++) {
                assertTrue(flusher.appended());
            }
            flush.gate.countDown();
            flusher.awaitFlushed();
            assertEquals(2, flush.runs.get(), "the first flush, then one for the 100 lines behind it");
        }
    }

    @Test
    void linesAppendedTogetherShareOneFlush() throws Exception {
        AtomicInteger runs = new AtomicInteger();
        try (JournalFlusher flusher = new JournalFlusher(runs::incrementAndGet)) {
            flusher.appended();
            flusher.appended();
            flusher.appended();
            flusher.awaitFlushed();
            assertEquals(1, runs.get(), "three lines within the flush's 2 ms gathering pause");
        }
    }

    @Test
    void linesAppendedDuringThePauseDoNotWakeTheThread() throws Exception {
        AtomicInteger runs = new AtomicInteger();
        try (JournalFlusher flusher = new JournalFlusher(runs::incrementAndGet, TimeUnit.MILLISECONDS.toNanos(1000))) {
            flusher.appended();
            Thread.sleep(50); // the thread is in its pause now
            long before = flusher.wakeUps();
            for (int i = 0; i < 50; i++) {
                flusher.appended();
                Thread.sleep(1); // as requests come: a woken thread would have had time to run
            }
            flusher.awaitFlushed();
            assertEquals(1, runs.get(), "one flush for the 51 lines");
            assertTrue(flusher.wakeUps() - before <= 2,
                    "50 appends in the pause woke the thread " + (flusher.wakeUps() - before) + " times");
        }
    }

    @Test
    void closeFlushesALineStillInTheGatheringPause() {
        AtomicInteger runs = new AtomicInteger();
        JournalFlusher flusher = new JournalFlusher(runs::incrementAndGet);
        flusher.appended();
        flusher.close();
        assertEquals(1, runs.get(), "the line was flushed before close returned");
    }

    @Test
    void awaitFlushedWaitsForTheFlushThatCoversItsLines() throws Exception {
        HeldFlush flush = new HeldFlush();
        try (JournalFlusher flusher = new JournalFlusher(flush)) {
            flusher.appended();
            assertTrue(flush.started.await(5, TimeUnit.SECONDS));
            CountDownLatch returned = new CountDownLatch(1);
            Thread waiter = new Thread(() -> {
                try {
                    flusher.awaitFlushed();
                    returned.countDown();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            waiter.start();
            assertFalse(returned.await(300, TimeUnit.MILLISECONDS), "returned while its line's flush was still running");
            flush.gate.countDown();
            assertTrue(returned.await(5, TimeUnit.SECONDS));
        }
    }

    @Test
    void closeFlushesWhatIsLeftAndLaterAppendsFlushThemselves() throws Exception {
        HeldFlush flush = new HeldFlush();
        JournalFlusher flusher = new JournalFlusher(flush);
        flusher.appended();
        assertTrue(flush.started.await(5, TimeUnit.SECONDS));
        flusher.appended();
        flush.gate.countDown();
        flusher.close();
        assertEquals(2, flush.runs.get(), "the line appended during the first flush was flushed before close returned");
        assertFalse(flusher.appended(), "a closed flusher takes no line: the store flushes it itself");
        flusher.awaitFlushed();
    }

    @Test
    void aFailedFlushIsLoggedAndTheNextOneStillRuns() throws Exception {
        AtomicInteger runs = new AtomicInteger();
        try (JournalFlusher flusher = new JournalFlusher(() -> {
            if (runs.incrementAndGet() == 1) {
                throw new IOException("device gone");
            }
        })) {
            flusher.appended();
            flusher.awaitFlushed();
            flusher.appended();
            flusher.awaitFlushed();
            assertEquals(2, runs.get());
        }
    }

    @Test
    void aStoreThatIsOnlyReadStartsNoThread() {
        long before = flushThreads();
        StateStore store = new StateStore(dir);
        store.load();
        assertEquals(before, flushThreads());
        store.close();
    }

    @Test
    void linesFlushedBehindTheReplyAndBeforeItLoadAlike() throws Exception {
        for (boolean beforeReply : new boolean[] {false, true}) {
            Path d = dir.resolve("before-reply-" + beforeReply);
            StateStore store = new StateStore(d, beforeReply);
            store.save(StateStoreTest.sample());
            assertTrue(store.append(new JournalEntry.LinkChange(new Link("computer-1", "computer-2"), false)));
            store.awaitFlushed();
            store.close();
            assertTrue(Files.size(d.resolve("topology.journal")) > 0);
            assertEquals(java.util.List.of(), new StateStore(d).load().links(), "mode before-reply=" + beforeReply);
        }
    }

    private static long flushThreads() {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().equals("journal-flush") && t.isAlive()).count();
    }
}
