package dev.intervirt.agent.dispatch;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.*;

class KeyedSerialExecutorTest {

    /** Long enough that a correct executor never hits it; only a broken one waits this long. */
    static final long WAIT_S = 10;
    /** How long a task that must NOT start yet is given to (wrongly) start. */
    static final long NOT_YET_MS = 300;

    ExecutorService pool;
    KeyedSerialExecutor lanes;

    @BeforeEach
    void setUp() {
        pool = Executors.newFixedThreadPool(8);
        lanes = new KeyedSerialExecutor(pool);
    }

    @AfterEach
    void tearDown() throws InterruptedException {
        pool.shutdownNow();
        assertTrue(pool.awaitTermination(WAIT_S, TimeUnit.SECONDS));
    }

    static void await(CountDownLatch latch) {
        try {
            if (!latch.await(WAIT_S, TimeUnit.SECONDS)) {
                throw new AssertionError("latch not released in time");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** A task on {@code keys} that holds its lanes until {@code gate} opens, then marks itself {@code done}. */
    CompletableFuture<Void> submitGated(List<String> keys, CountDownLatch gate, AtomicBoolean done) {
        return lanes.submit(keys, () -> {
            await(gate);
            done.set(true);
        });
    }

    /** A task on {@code keys} submitted after the failing task {@code bad} still runs; {@code bad} ends failed. */
    void assertNextTaskRunsAfterFailed(CompletableFuture<Void> bad, List<String> keys) throws Exception {
        AtomicBoolean ran = new AtomicBoolean();
        join(lanes.submit(keys, () -> ran.set(true)));
        assertTrue(ran.get());
        assertTrue(bad.isCompletedExceptionally());
    }

    static void join(CompletableFuture<?> f) throws Exception {
        f.get(WAIT_S, TimeUnit.SECONDS);
    }

    static void assertNotDoneYet(CompletableFuture<?> f) throws Exception {
        assertThrows(TimeoutException.class, () -> f.get(NOT_YET_MS, TimeUnit.MILLISECONDS), "task ran too early");
    }

    @Test
    void sameKeyRunsInSubmissionOrder() throws Exception {
        CountDownLatch gate = new CountDownLatch(1);
        List<Integer> order = Collections.synchronizedList(new ArrayList<>());
        List<CompletableFuture<Void>> fs = new ArrayList<>();
        fs.add(lanes.submit(List.of("a"), () -> await(gate)));
        for (int i = 0; i < 200; i++) {
            int n = i;
            fs.add(lanes.submit(List.of("a"), () -> order.add(n)));
        }
        assertEquals(List.of(), order, "nothing may pass the blocked first task");
        gate.countDown();
        for (CompletableFuture<Void> f : fs) {
            join(f);
        }
        assertEquals(IntStream.range(0, 200).boxed().toList(), order);
    }

    @Test
    void sameKeyNeverOverlaps() throws Exception {
        AtomicInteger running = new AtomicInteger();
        AtomicInteger maxRunning = new AtomicInteger();
        List<CompletableFuture<Void>> fs = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            fs.add(lanes.submit(List.of("same"), () -> {
                int now = running.incrementAndGet();
                maxRunning.accumulateAndGet(now, Math::max);
                Thread.yield();
                running.decrementAndGet();
            }));
        }
        for (CompletableFuture<Void> f : fs) {
            join(f);
        }
        assertEquals(1, maxRunning.get());
    }

    @Test
    void disjointKeysRunConcurrently() throws Exception {
        CountDownLatch both = new CountDownLatch(2);
        AtomicBoolean aMet = new AtomicBoolean();
        AtomicBoolean bMet = new AtomicBoolean();
        CompletableFuture<Void> a = lanes.submit(List.of("a"), () -> {
            both.countDown();
            aMet.set(awaitQuietly(both));
        });
        CompletableFuture<Void> b = lanes.submit(List.of("b"), () -> {
            both.countDown();
            bMet.set(awaitQuietly(both));
        });
        join(a);
        join(b);
        assertTrue(aMet.get() && bMet.get(), "tasks on different keys must be able to run at the same time");
    }

    @Test
    void twoKeyTaskWaitsForBothLanes() throws Exception {
        CountDownLatch gateA = new CountDownLatch(1);
        CountDownLatch gateB = new CountDownLatch(1);
        AtomicBoolean aDone = new AtomicBoolean();
        AtomicBoolean bDone = new AtomicBoolean();
        List<String> seen = Collections.synchronizedList(new ArrayList<>());
        CompletableFuture<Void> ta = submitGated(List.of("a"), gateA, aDone);
        CompletableFuture<Void> tb = submitGated(List.of("b"), gateB, bDone);
        CompletableFuture<Void> tab = lanes.submit(List.of("a", "b"), () -> seen.add("ab a=" + aDone.get() + " b=" + bDone.get()));
        gateA.countDown();
        join(ta);
        assertNotDoneYet(tab);
        gateB.countDown();
        join(tb);
        join(tab);
        assertEquals(List.of("ab a=true b=true"), seen);
    }

    @Test
    void laterTasksOnEitherKeyWaitForTheTwoKeyTask() throws Exception {
        CountDownLatch gate = new CountDownLatch(1);
        AtomicBoolean abDone = new AtomicBoolean();
        List<String> seen = Collections.synchronizedList(new ArrayList<>());
        CompletableFuture<Void> tab = submitGated(List.of("a", "b"), gate, abDone);
        CompletableFuture<Void> ta = lanes.submit(List.of("a"), () -> seen.add("a after ab=" + abDone.get()));
        CompletableFuture<Void> tb = lanes.submit(List.of("b"), () -> seen.add("b after ab=" + abDone.get()));
        CompletableFuture<Void> tc = lanes.submit(List.of("c"), () -> seen.add("c"));
        join(tc);
        assertEquals(List.of("c"), seen, "an unrelated key is not held up");
        gate.countDown();
        join(tab);
        join(ta);
        join(tb);
        assertTrue(seen.containsAll(List.of("a after ab=true", "b after ab=true")), seen.toString());
        assertEquals(3, seen.size());
    }

    @Test
    void duplicateKeysInOneTaskAreHarmless() throws Exception {
        List<String> seen = Collections.synchronizedList(new ArrayList<>());
        join(lanes.submit(List.of("a", "a"), () -> seen.add("1")));
        join(lanes.submit(List.of("a"), () -> seen.add("2")));
        assertEquals(List.of("1", "2"), seen);
    }

    @Test
    void allWaitsForEverythingBeforeAndBlocksEverythingAfter() throws Exception {
        CountDownLatch gateA = new CountDownLatch(1);
        CountDownLatch gateB = new CountDownLatch(1);
        CountDownLatch allStarted = new CountDownLatch(1);
        CountDownLatch gateAll = new CountDownLatch(1);
        AtomicBoolean aDone = new AtomicBoolean();
        AtomicBoolean bDone = new AtomicBoolean();
        AtomicBoolean allDone = new AtomicBoolean();
        List<String> seen = Collections.synchronizedList(new ArrayList<>());

        CompletableFuture<Void> ta = submitGated(List.of("a"), gateA, aDone);
        CompletableFuture<Void> tb = submitGated(List.of("b"), gateB, bDone);
        CompletableFuture<Void> tAll = lanes.submit(List.of(KeyedSerialExecutor.ALL), () -> {
            seen.add("all a=" + aDone.get() + " b=" + bDone.get());
            allStarted.countDown();
            await(gateAll);
            allDone.set(true);
        });
        CompletableFuture<Void> tAfterA = lanes.submit(List.of("a"), () -> seen.add("a after all=" + allDone.get()));
        CompletableFuture<Void> tNew = lanes.submit(List.of("never-seen-key"), () -> seen.add("new after all=" + allDone.get()));

        gateA.countDown();
        join(ta);
        assertNotDoneYet(tAll);
        gateB.countDown();
        join(tb);
        await(allStarted);
        assertNotDoneYet(tNew);
        assertFalse(tAfterA.isDone());
        gateAll.countDown();
        join(tAll);
        join(tAfterA);
        join(tNew);
        assertEquals("all a=true b=true", seen.get(0));
        assertTrue(seen.containsAll(List.of("a after all=true", "new after all=true")), seen.toString());
    }

    @Test
    void allAfterAllIsOrdered() throws Exception {
        CountDownLatch gate = new CountDownLatch(1);
        List<String> seen = Collections.synchronizedList(new ArrayList<>());
        CompletableFuture<Void> first = lanes.submit(List.of(KeyedSerialExecutor.ALL), () -> {
            await(gate);
            seen.add("first");
        });
        CompletableFuture<Void> second = lanes.submit(List.of(KeyedSerialExecutor.ALL), () -> seen.add("second"));
        assertNotDoneYet(second);
        gate.countDown();
        join(first);
        join(second);
        assertEquals(List.of("first", "second"), seen);
    }

    @Test
    void allOnAnIdleExecutorRunsAtOnce() throws Exception {
        AtomicBoolean ran = new AtomicBoolean();
        join(lanes.submit(List.of(KeyedSerialExecutor.ALL), () -> ran.set(true)));
        assertTrue(ran.get());
    }

    @Test
    void failingTaskDoesNotBlockItsLane() throws Exception {
        CompletableFuture<Void> bad = lanes.submit(List.of("a"), () -> {
            throw new IllegalStateException("boom");
        });
        AtomicBoolean ran = new AtomicBoolean();
        CompletableFuture<Void> next = lanes.submit(List.of("a"), () -> ran.set(true));
        join(next);
        assertTrue(ran.get());
        ExecutionException e = assertThrows(ExecutionException.class, () -> bad.get(WAIT_S, TimeUnit.SECONDS));
        assertInstanceOf(IllegalStateException.class, e.getCause());
        assertTrue(bad.isCompletedExceptionally());
    }

    @Test
    void failingAllTaskDoesNotBlockAnything() throws Exception {
        CompletableFuture<Void> bad = lanes.submit(List.of(KeyedSerialExecutor.ALL), () -> {
            throw new IllegalStateException("boom");
        });
        assertNextTaskRunsAfterFailed(bad, List.of("x"));
    }

    @Test
    void errorsDoNotBlockEither() throws Exception {
        CompletableFuture<Void> bad = lanes.submit(List.of("a"), () -> {
            throw new AssertionError("an Error, not an Exception");
        });
        assertNextTaskRunsAfterFailed(bad, List.of("a"));
    }

    @Test
    void finishedLanesAreForgotten() throws Exception {
        List<CompletableFuture<Void>> fs = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            fs.add(lanes.submit(List.of("k" + i), () -> {
            }));
        }
        fs.add(lanes.submit(List.of(KeyedSerialExecutor.ALL), () -> {
        }));
        fs.add(lanes.submit(List.of("x", "y"), () -> {
        }));
        for (CompletableFuture<Void> f : fs) {
            join(f);
        }
        // The bookkeeping runs right after each task; give it a bounded moment, then insist.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_S);
        while (lanes.pendingKeys() != 0 && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        assertEquals(0, lanes.pendingKeys());
    }

    @Test
    void blockedLaneHoldsItsKeyOnly() throws Exception {
        CountDownLatch gate = new CountDownLatch(1);
        CompletableFuture<Void> blocked = lanes.submit(List.of("a"), () -> await(gate));
        assertTrue(lanes.pendingKeys() >= 1);
        AtomicInteger others = new AtomicInteger();
        List<CompletableFuture<Void>> fs = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            fs.add(lanes.submit(List.of("b" + i), others::incrementAndGet));
        }
        for (CompletableFuture<Void> f : fs) {
            join(f);
        }
        assertEquals(20, others.get());
        assertFalse(blocked.isDone());
        gate.countDown();
        join(blocked);
    }

    // ---- runHereIfFree: a quick task on the caller's thread ---------------------------------

    @Test
    void runHereRunsOnTheCallersThreadWhenItsLanesAreFree() {
        Thread[] ranOn = new Thread[1];
        assertTrue(lanes.runHereIfFree(List.of("a", "b"), () -> ranOn[0] = Thread.currentThread()));
        assertEquals(Thread.currentThread(), ranOn[0]);
        assertEquals(0, lanes.pendingKeys());
    }

    @Test
    void runHereRefusesWhileATaskHoldsOneOfItsLanes() throws Exception {
        CountDownLatch gate = new CountDownLatch(1);
        CompletableFuture<Void> holder = lanes.submit(List.of("b"), () -> await(gate));
        AtomicBoolean ran = new AtomicBoolean();
        assertFalse(lanes.runHereIfFree(List.of("a", "b"), () -> ran.set(true)));
        assertFalse(ran.get());
        assertTrue(lanes.runHereIfFree(List.of("a"), () -> ran.set(true)), "a lane nobody holds is free");
        assertTrue(ran.get());
        gate.countDown();
        join(holder);
    }

    @Test
    void runHereRefusesGuestWideTasksAndRunsNothingBesideOne() throws Exception {
        assertFalse(lanes.runHereIfFree(List.of(KeyedSerialExecutor.ALL), () -> {
            throw new AssertionError("a guest-wide task never runs here");
        }));
        CountDownLatch gate = new CountDownLatch(1);
        CompletableFuture<Void> wipe = lanes.submit(List.of(KeyedSerialExecutor.ALL), () -> await(gate));
        assertFalse(lanes.runHereIfFree(List.of("a"), () -> {
            throw new AssertionError("nothing runs beside a guest-wide task");
        }));
        gate.countDown();
        join(wipe);
    }

    @Test
    void tasksSubmittedWhileOneRunsHereWaitForIt() throws Exception {
        List<String> order = Collections.synchronizedList(new ArrayList<>());
        CompletableFuture<?>[] later = new CompletableFuture<?>[2];
        assertTrue(lanes.runHereIfFree(List.of("a"), () -> {
            later[0] = lanes.submit(List.of("a"), () -> order.add("same lane"));
            later[1] = lanes.submit(List.of(KeyedSerialExecutor.ALL), () -> order.add("guest-wide"));
            sleepQuietly(NOT_YET_MS);
            order.add("here");
        }));
        join(later[0]);
        join(later[1]);
        assertEquals(List.of("here", "same lane", "guest-wide"), order);
    }

    @Test
    void aFailureHereFreesItsLanes() throws Exception {
        assertThrows(IllegalStateException.class, () -> lanes.runHereIfFree(List.of("a"), () -> {
            throw new IllegalStateException("boom");
        }));
        assertEquals(0, lanes.pendingKeys());
        AtomicBoolean ran = new AtomicBoolean();
        assertTrue(lanes.runHereIfFree(List.of("a"), () -> ran.set(true)));
        assertTrue(ran.get());
    }

    @Test
    void aFinishedTaskNotYetForgottenHoldsNothing() throws Exception {
        join(lanes.submit(List.of("a"), () -> {
        }));
        // Whether or not its bookkeeping has run yet, the lane is free.
        assertTrue(lanes.runHereIfFree(List.of("a"), () -> {
        }));
    }

    private static void sleepQuietly(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static boolean awaitQuietly(CountDownLatch latch) {
        try {
            return latch.await(WAIT_S, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
