package dev.intervirt.agent.dispatch;

import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/**
 * Runs tasks on a pool, in arrival order per key: a task starts once every earlier task that
 * shares a key with it has finished. Tasks with disjoint keys run in parallel. A task that
 * names the {@link #ALL} key waits for everything before it, and everything after waits for it.
 * Dependencies only point to earlier tasks, so there can be no deadlock.
 */
public final class KeyedSerialExecutor {

    /** The key of guest-wide tasks (wipe, shutdown): ordered against every other task. */
    public static final String ALL = "*";

    private final Executor pool;
    private final Map<String, CompletableFuture<Void>> tails = new HashMap<>();

    public KeyedSerialExecutor(Executor pool) {
        this.pool = pool;
    }

    public synchronized CompletableFuture<Void> submit(Collection<String> keys, Runnable task) {
        boolean global = keys.contains(ALL);
        CompletableFuture<?>[] before;
        if (global) {
            before = tails.values().toArray(CompletableFuture[]::new);
        } else {
            before = keys.stream().distinct().map(tails::get).filter(f -> f != null).toArray(CompletableFuture[]::new);
            CompletableFuture<Void> barrier = tails.get(ALL);
            if (barrier != null) {
                before = append(before, barrier);
            }
        }
        CompletableFuture<Void> run = CompletableFuture.allOf(before).handle((v, e) -> null)
                .thenRunAsync(task, pool);
        // Never let a failed task break the chain for the tasks after it.
        CompletableFuture<Void> tail = run.handle((v, e) -> null);
        if (global) {
            tails.clear();
            tails.put(ALL, tail);
        } else {
            for (String k : keys) {
                tails.put(k, tail);
            }
        }
        tail.thenRun(() -> forget(keys, tail));
        return run;
    }

    /**
     * Runs the task on the calling thread, at once, when no unfinished task holds or waits for
     * any of its keys (nor a guest-wide one), and returns true; returns false, running nothing,
     * otherwise. Tasks submitted while it runs wait for it as for any other.
     */
    public boolean runHereIfFree(Collection<String> keys, Runnable task) {
        CompletableFuture<Void> tail = new CompletableFuture<>();
        synchronized (this) {
            if (keys.contains(ALL) || busy(ALL)) {
                return false;
            }
            for (String k : keys) {
                if (busy(k)) {
                    return false;
                }
            }
            for (String k : keys) {
                tails.put(k, tail);
            }
        }
        try {
            task.run();
        } finally {
            forget(keys, tail);
            tail.complete(null);
        }
        return true;
    }

    /** A finished tail may not be forgotten yet (that runs just after it): it holds nothing. */
    private boolean busy(String key) {
        CompletableFuture<Void> tail = tails.get(key);
        return tail != null && !tail.isDone();
    }

    /** Drops finished tails so the map does not grow with every id ever seen. */
    private synchronized void forget(Collection<String> keys, CompletableFuture<Void> tail) {
        for (String k : keys) {
            tails.remove(k, tail);
        }
        if (keys.contains(ALL)) {
            tails.remove(ALL, tail);
        }
    }

    synchronized int pendingKeys() {
        return tails.size();
    }

    private static CompletableFuture<?>[] append(CompletableFuture<?>[] a, CompletableFuture<?> x) {
        CompletableFuture<?>[] r = java.util.Arrays.copyOf(a, a.length + 1);
        r[a.length] = x;
        return r;
    }
}
