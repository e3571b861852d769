package dev.intervirt.agent.host.netlink;

import com.sun.jna.LastErrorException;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Runs a piece of work inside another network namespace: on a short-lived thread of its own
 * that enters the namespace with {@code setns(CLONE_NEWNET)}, does the work, returns to the
 * namespace it came from and ends. No other thread ever changes namespace, and a thread that
 * could not return dies with its namespace (it is never reused). A netlink socket opened there
 * keeps that namespace for its life, so later requests need no thread at all.
 */
public final class Namespaces {

    private static final long TIMEOUT_MILLIS = 10_000;

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
        AtomicReference<T> result = new AtomicReference<>();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread t = new Thread(() -> {
            try {
                result.set(enterAndRun(nsFile, work));
            } catch (Throwable e) {
                failure.set(e);
            }
        }, "netns-enter");
        t.setDaemon(true);
        t.start();
        try {
            t.join(TIMEOUT_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while entering " + nsFile, e);
        }
        if (t.isAlive()) {
            throw new NetlinkException("enter " + nsFile, 110, "no answer within " + TIMEOUT_MILLIS + " ms");
        }
        Throwable e = failure.get();
        if (e instanceof RuntimeException r) {
            throw r;
        } else if (e instanceof Error err) {
            throw err;
        } else if (e != null) {
            throw new IllegalStateException(e);
        }
        return result.get();
    }

    private static <T> T enterAndRun(Path nsFile, Callable<T> work) throws Exception {
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
            try {
                return work.call();
            } finally {
                // Back home; should this ever fail, the thread ends here and takes the namespace with it.
                c.setns(own, LibC.CLONE_NEWNET);
            }
        } finally {
            c.close(target);
            c.close(own);
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
