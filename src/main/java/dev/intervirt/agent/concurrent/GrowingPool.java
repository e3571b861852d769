package dev.intervirt.agent.concurrent;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedTransferQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * A pool that hands a task to an idle thread when there is one, makes a new thread only when
 * all are busy, queues (never rejects) once it has {@code maxThreads}, and lets idle threads
 * expire. A plain {@link ThreadPoolExecutor} with a fixed size and an unbounded queue makes a
 * thread for every task until it has them all, idle ones or not: the agent held 64 request
 * threads after a few hundred quick requests (their stacks and malloc arenas ~10 MiB of its
 * RSS). The queue takes a task only when a waiting thread takes it at once (the idea of
 * Tomcat's TaskQueue), so the pool grows first and queues only at its maximum.
 */
public final class GrowingPool {

    private GrowingPool() {
    }

    public static ExecutorService create(int maxThreads, long keepAliveSeconds, ThreadFactory threads) {
        HandOffQueue queue = new HandOffQueue();
        return new ThreadPoolExecutor(0, maxThreads, keepAliveSeconds, TimeUnit.SECONDS, queue, threads, (task, pool) -> {
            // All threads busy and no more allowed: the task waits its turn.
            if (pool.isShutdown()) {
                throw new RejectedExecutionException("the pool is shut down");
            }
            queue.add(task);
        });
    }

    /** Accepts an offered task only when a thread waits for one; {@code add} always queues. */
    private static final class HandOffQueue extends LinkedTransferQueue<Runnable> {
        @Override
        public boolean offer(Runnable task) {
            return tryTransfer(task);
        }

        @Override
        public boolean add(Runnable task) {
            return super.offer(task);
        }
    }
}
