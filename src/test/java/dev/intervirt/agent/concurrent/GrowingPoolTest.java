package dev.intervirt.agent.concurrent;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GrowingPoolTest {

    private final AtomicInteger made = new AtomicInteger();
    private final ExecutorService pool = GrowingPool.create(4, 1, r -> {
        made.incrementAndGet();
        Thread t = new Thread(r, "test-growing");
        t.setDaemon(true);
        return t;
    });

    @AfterEach
    void shutDown() {
        pool.shutdownNow();
    }

    @Test
    void tasksOneAfterAnotherReuseOneThread() throws Exception {
        Set<Thread> threads = ConcurrentHashMap.newKeySet();
        for (int i = 0; i < 200; i++) {
            pool.submit(() -> threads.add(Thread.currentThread())).get(5, TimeUnit.SECONDS);
            // as between requests: the thread is back waiting before the next task comes
            awaitIdle();
        }
        assertEquals(1, threads.size(), "one idle thread takes every next task");
        assertEquals(1, made.get());
    }

    @Test
    void growsWhileAllAreBusyThenQueuesAtItsMaximumAndRunsEverything() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch running = new CountDownLatch(4);
        AtomicInteger finished = new AtomicInteger();
        Future<?>[] tasks = new Future<?>[10];
        for (int i = 0; i < tasks.length; i++) {
            tasks[i] = pool.submit(() -> {
                running.countDown();
                release.await();
                finished.incrementAndGet();
                return null;
            });
        }
        assertTrue(running.await(5, TimeUnit.SECONDS), "four tasks run at once: the pool grew to its maximum");
        assertEquals(4, made.get(), "no thread beyond the maximum");
        assertEquals(6, ((ThreadPoolExecutor) pool).getQueue().size(), "the rest wait, none rejected");
        release.countDown();
        for (Future<?> f : tasks) {
            f.get(5, TimeUnit.SECONDS);
        }
        assertEquals(10, finished.get());
        assertEquals(4, made.get());
    }

    @Test
    void idleThreadsExpire() throws Exception {
        pool.submit(() -> { }).get(5, TimeUnit.SECONDS);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (((ThreadPoolExecutor) pool).getPoolSize() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertEquals(0, ((ThreadPoolExecutor) pool).getPoolSize());
    }

    @Test
    void aShutDownPoolRefuses() {
        pool.shutdown();
        assertThrows(RejectedExecutionException.class, () -> pool.execute(() -> { }));
    }

    private void awaitIdle() throws InterruptedException {
        var queue = (java.util.concurrent.LinkedTransferQueue<Runnable>) ((ThreadPoolExecutor) pool).getQueue();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!queue.hasWaitingConsumer() && System.nanoTime() < deadline) {
            Thread.sleep(1);
        }
    }
}
