package dev.intervirt.agent.host.netlink;

import com.sun.jna.LastErrorException;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.logging.Logger;

/**
 * Runs a piece of work inside another network namespace: on a thread of a small pool that
 * enters the namespace with {@code setns(CLONE_NEWNET)}, does the work and returns to the
 * namespace it came from. Only these threads ever change namespace, and a thread that could not
 * return ends there with its namespace (the pool never hands it more work). A netlink socket
 * opened there keeps that namespace for its life, so later requests need no thread at all.
 * The threads are kept, at most {@value #THREADS} (idle ones end after {@value #IDLE_SECONDS} s):
 * a new thread per entry cost 0.15-0.6 ms of every start's network set-up, on a quiet machine.
 */
public final class Namespaces {

    private static final Logger LOG = Logger.getLogger(Namespaces.class.getName());
    private static final long TIMEOUT_MILLIS = 10_000;
    private static final long IDLE_SECONDS = 30;
    /** Entries are short (a socket, some sysctls); a few at once, so one that hangs stops no other. */
    static final int THREADS = 4;
    private static final ThreadPoolExecutor ENTERING = pool();

    private Namespaces() {
    }

    /** Opens a netlink socket inside the namespace {@code nsFile} (e.g. {@code /proc/PID/ns/net}). */
    public static NetlinkSocket openSocket(Path nsFile) {
        return inside(nsFile, NetlinkSocket::open);
    }

    /**
     * Runs {@code work} inside the namespace {@code nsFile} and returns its result. A failure of
     * the work is rethrown as it is; "no such file" for {@code nsFile} is a {@link NetlinkException}
     * with {@link NetlinkException#ENOENT}.
     */
    public static <T> T inside(Path nsFile, Callable<T> work) {
        CompletableFuture<T> result = new CompletableFuture<>();
        ENTERING.execute(() -> runOnPoolThread(nsFile, work, result));
        try {
            return result.get(TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while entering " + nsFile, e);
        } catch (TimeoutException e) {
            throw new NetlinkException("enter " + nsFile, 110, "no answer within " + TIMEOUT_MILLIS + " ms");
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException r) {
                throw r;
            } else if (cause instanceof Error err) {
                throw err;
            }
            throw new IllegalStateException(cause);
        }
    }

    private static ThreadPoolExecutor pool() {
        ThreadPoolExecutor pool = new ThreadPoolExecutor(THREADS, THREADS, IDLE_SECONDS, TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(), Namespaces::thread);
        pool.allowCoreThreadTimeOut(true);
        return pool;
    }

    private static Thread thread(Runnable r) {
        Thread t = new Thread(r, "netns-enter");
        t.setDaemon(true);
        // A thread stranded in a namespace ends by an exception (see runOnPoolThread): no stack trace on stderr.
        t.setUncaughtExceptionHandler((thread, e) -> { });
        return t;
    }

    /**
     * Runs on a pool thread, which is in its home namespace. The work's outcome goes to
     * {@code result}; should the way home fail, this thread ends (by the exception).
     */
    private static <T> void runOnPoolThread(Path nsFile, Callable<T> work, CompletableFuture<T> result) {
        try {
            result.complete(callInside(nsFile, work));
        } catch (StrandedException e) {
            result.completeExceptionally(e.getCause());
            LOG.warning("a namespace-entering thread could not return from " + nsFile + "; it ends");
            throw e;
        } catch (Throwable e) {
            result.completeExceptionally(e);
        }
    }

    /** Enters, runs {@code work}, returns home; a failed return is a {@link StrandedException}. */
    private static <T> T callInside(Path nsFile, Callable<T> work) throws Exception {
        LibC c = LibC.INSTANCE;
        int own = openNs(Path.of("/proc/thread-self/ns/net"));
        int target;
        try {
            target = openNs(nsFile);
        } catch (RuntimeException e) {
            c.close(own);
            throw e;
        }
        try {
            try {
                c.setns(target, LibC.CLONE_NEWNET);
            } catch (LastErrorException e) {
                throw new NetlinkException("setns " + nsFile, e.getErrorCode(), null);
            }
            T value;
            try {
                value = work.call();
            } catch (Exception | Error e) {
                goHome(c, own, e);
                throw e;
            }
            goHome(c, own, null);
            return value;
        } finally {
            c.close(target);
            c.close(own);
        }
    }

    private static void goHome(LibC c, int own, Throwable workFailure) {
        try {
            c.setns(own, LibC.CLONE_NEWNET);
        } catch (LastErrorException e) {
            NetlinkException home = new NetlinkException("setns back to the agent's namespace", e.getErrorCode(), null);
            throw new StrandedException(workFailure != null ? workFailure : home);
        }
    }

    /** The way home failed; the cause is what the caller gets (the work's own failure, if any). */
    private static final class StrandedException extends RuntimeException {
        StrandedException(Throwable cause) {
            super(cause);
        }
    }

    private static int openNs(Path file) {
        try {
            return LibC.INSTANCE.open(file.toString(), LibC.O_RDONLY | LibC.O_CLOEXEC);
        } catch (LastErrorException e) {
            throw new NetlinkException("open " + file, e.getErrorCode(), null);
        }
    }
}
