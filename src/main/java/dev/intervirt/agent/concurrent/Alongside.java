package dev.intervirt.agent.concurrent;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Overlaps two independent pieces of one operation: one runs on a pool thread while the caller
 * does the other, and the operation ends only when both are done. Used where the agent would
 * otherwise wait twice: the host side of a container's network while libvirt defines it, and a
 * topology change's durable save (the journal's flush, ~0.1–0.3 ms on the guest's disk) while
 * the kernel takes the request's host changes.
 *
 * <p>{@link #inOrder()} runs both on the caller's thread instead, {@code beside} first: for
 * pieces shorter than a hand-off (a journal line appended to the page cache, while its flush
 * runs behind the reply): waking a pool thread and waiting for it cost more than the append
 * (a request's save plus host changes, p50 170 -> 155 µs, measured alternately in one agent).
 *
 * <p>Threads are made as needed and idle ones expire; one pool per owner, not per class: in a
 * Jakarta runtime whose class path holds the agent's classes, a static pool's idle thread
 * outlived an undeploy and, with that deployment's context class loader, reached its dead CDI
 * container from the next one. Each task runs with its caller's context class loader, by which
 * a Jakarta runtime's CDI (and the JSON provider) finds this deployment.
 */
public final class Alongside implements AutoCloseable {

    /** Null: both pieces run in order on the caller's thread. */
    private final ExecutorService pool;

    public Alongside(String threadName) {
        this.pool = Executors.newCachedThreadPool(DaemonThreads.named(threadName));
    }

    private Alongside() {
        this.pool = null;
    }

    /** Runs {@code beside}, then {@code here}, on the caller's thread; the same failure handling. */
    public static Alongside inOrder() {
        return new Alongside();
    }

    /**
     * Runs {@code beside} on a pool thread and {@code here} on this one. If {@code here} fails,
     * {@code beside}'s work is taken back with {@code takeBack} (once it is done, if it succeeded)
     * and the failure thrown; if {@code beside} fails, its failure is thrown once {@code here} is
     * done, so that the caller's undo can take {@code here}'s work back.
     */
    public void run(Runnable beside, Runnable takeBack, Runnable here) {
        if (pool == null) {
            runInOrder(beside, takeBack, here);
            return;
        }
        CompletableFuture<Void> done = CompletableFuture.runAsync(withCallersLoader(beside), pool);
        try {
            here.run();
        } catch (RuntimeException | Error e) {
            if (succeeded(done)) {
                try {
                    takeBack.run();
                } catch (RuntimeException t) {
                    e.addSuppressed(t);
                }
            }
            throw e;
        }
        try {
            done.join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            if (e.getCause() instanceof Error err) {
                throw err;
            }
            throw e;
        }
    }

    private static void runInOrder(Runnable beside, Runnable takeBack, Runnable here) {
        beside.run();
        try {
            here.run();
        } catch (RuntimeException | Error e) {
            try {
                takeBack.run();
            } catch (RuntimeException t) {
                e.addSuppressed(t);
            }
            throw e;
        }
    }

    private static boolean succeeded(CompletableFuture<Void> done) {
        try {
            done.join();
            return true;
        } catch (CompletionException | java.util.concurrent.CancellationException e) {
            return false;
        }
    }

    private static Runnable withCallersLoader(Runnable task) {
        ClassLoader caller = Thread.currentThread().getContextClassLoader();
        return () -> {
            Thread t = Thread.currentThread();
            ClassLoader before = t.getContextClassLoader();
            t.setContextClassLoader(caller);
            try {
                task.run();
            } finally {
                t.setContextClassLoader(before);
            }
        };
    }

    @Override
    public void close() {
        if (pool != null) {
            pool.shutdown();
        }
    }
}
