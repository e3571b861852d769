package dev.intervirt.agent.host.netlink;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Logger;

/**
 * One netlink socket per running container, inside its network namespace, found by the pid of
 * its init. Opened at first use, checked at every configuration and at a use a second or more
 * after the last check (the pid must still be in the namespace the socket was opened in: a
 * restarted container or a reused pid gets a fresh socket), and closed by {@link #release}
 * when the container stops or its init changes. Handles whose
 * namespace is gone are also closed when a new one is opened (at most every 5 s), so a stop
 * nobody reported holds a namespace only until a later start.
 */
public final class NamespaceSockets implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(NamespaceSockets.class.getName());

    /** An open socket and what is known about the namespace it lives in. */
    public static final class Handle {
        private final int pid;
        private final String namespace;
        private final NetlinkSocket socket;
        private final Map<String, Integer> indexes = new ConcurrentHashMap<>();
        /** When the pid was last seen in this namespace. */
        private volatile long checkedAt = System.nanoTime();

        Handle(int pid, String namespace, NetlinkSocket socket) {
            this.pid = pid;
            this.namespace = namespace;
            this.socket = socket;
        }

        public NetlinkSocket socket() {
            return socket;
        }

        public int pid() {
            return pid;
        }

        /** The index of device {@code name} in this namespace, looked up once. */
        public int linkIndex(String name) {
            Integer cached = indexes.get(name);
            if (cached != null) {
                return cached;
            }
            int index = socket.link(name).index();
            indexes.put(name, index);
            return index;
        }

        /** Forgets the looked-up indexes (after "no such device": the device may have been made anew). */
        public void forgetIndexes() {
            indexes.clear();
        }
    }

    /** The init whose namespace was asked for is gone. */
    public static final class GoneException extends RuntimeException {
        GoneException(int pid) {
            super("pid " + pid + " is gone");
        }
    }

    private static final long SWEEP_NANOS = java.util.concurrent.TimeUnit.SECONDS.toNanos(5);
    /**
     * How long a check is trusted by a request's change. The check (a readlink under /proc) was
     * ~10 % of a Connect's time in the agent; within this second after an init's exit a change
     * reaches its old namespace, which the socket keeps, harmlessly, as one made just before the
     * stop. A configuration (a start) always checks.
     */
    public static final long TRUSTED_NANOS = java.util.concurrent.TimeUnit.SECONDS.toNanos(1);
    private final Map<Integer, Handle> handles = new ConcurrentHashMap<>();
    /** When {@link #closeStale} last looked (the first open looks); under this object's lock. */
    private long swept = System.nanoTime() - SWEEP_NANOS;
    private final String ownNamespace;

    public NamespaceSockets() {
        this.ownNamespace = namespaceOf(Path.of("/proc/self/ns/net"));
    }

    /**
     * The socket in {@code pid}'s network namespace. {@code whenOpened} runs inside that
     * namespace when a new socket is opened (nothing runs when one is reused); with it (a
     * configuration) the pid's namespace is always checked, without it only when the last check
     * is {@link #TRUSTED_NANOS} old.
     *
     * @throws GoneException when the process does not exist (any more)
     * @throws IllegalArgumentException when the process shares the agent's own namespace
     */
    public Handle of(int pid, Runnable whenOpened) {
        if (pid <= 1) {
            throw new IllegalArgumentException("not a container init pid: " + pid);
        }
        Handle known = handles.get(pid);
        if (whenOpened == null && known != null && known.socket.isOpen()
                && System.nanoTime() - known.checkedAt < TRUSTED_NANOS) {
            return known;
        }
        Path nsFile = nsFile(pid);
        String namespace;
        try {
            namespace = namespaceOf(nsFile);
        } catch (UncheckedIOException e) {
            if (e.getCause() instanceof NoSuchFileException) {
                release(pid);
                throw new GoneException(pid);
            }
            throw e;
        }
        if (namespace.equals(ownNamespace)) {
            throw new IllegalArgumentException("pid " + pid + " is in the agent's own network namespace");
        }
        if (known != null && known.namespace.equals(namespace) && known.socket.isOpen()) {
            known.checkedAt = System.nanoTime();
            return known;
        }
        synchronized (this) {
            Handle h = handles.get(pid);
            if (h != null && h.namespace.equals(namespace) && h.socket.isOpen()) {
                h.checkedAt = System.nanoTime();
                return h;
            }
            release(pid);
            closeStale();
            NetlinkSocket socket;
            try {
                socket = Namespaces.inside(nsFile, () -> {
                    NetlinkSocket s = NetlinkSocket.open();
                    try {
                        if (whenOpened != null) {
                            whenOpened.run();
                        }
                        return s;
                    } catch (RuntimeException e) {
                        s.close();
                        throw e;
                    }
                });
            } catch (NetlinkException e) {
                if (e.errno() == NetlinkException.ENOENT) {
                    throw new GoneException(pid);
                }
                throw e;
            }
            // The pid may have died and been reused between the look-up and the open: check again.
            String after;
            try {
                after = namespaceOf(nsFile);
            } catch (UncheckedIOException e) {
                socket.close();
                throw new GoneException(pid);
            }
            if (!after.equals(namespace)) {
                socket.close();
                throw new GoneException(pid);
            }
            h = new Handle(pid, namespace, socket);
            handles.put(pid, h);
            return h;
        }
    }

    /** Closes the socket of {@code pid}'s namespace, if one is open. */
    public void release(int pid) {
        Handle h = handles.remove(pid);
        if (h != null) {
            h.socket.close();
        }
    }

    /** How many sockets are open now. */
    public int size() {
        return handles.size();
    }

    @Override
    public void close() {
        handles.keySet().forEach(this::release);
    }

    /**
     * Closes the sockets of namespaces whose init is gone or changed, at most every
     * {@link #SWEEP_NANOS}: one look per open socket, ~1.5 ms at 100 running containers, was in
     * every start.
     */
    private void closeStale() {
        long time = System.nanoTime();
        if (time - swept < SWEEP_NANOS) {
            return;
        }
        swept = time;
        for (Handle h : handles.values()) {
            String now;
            try {
                now = namespaceOf(nsFile(h.pid));
            } catch (UncheckedIOException e) {
                now = null;
            }
            if (!h.namespace.equals(now)) {
                LOG.fine("closing the netlink socket of gone init " + h.pid);
                handles.remove(h.pid, h);
                h.socket.close();
            }
        }
    }

    private static Path nsFile(int pid) {
        return Path.of("/proc", Integer.toString(pid), "ns", "net");
    }

    /** {@code net:[INODE]}: equal for two processes exactly when they share the namespace. */
    static String namespaceOf(Path nsLink) {
        try {
            return Files.readSymbolicLink(nsLink).toString();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
