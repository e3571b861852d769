package dev.intervirt.agent.container;

import dev.intervirt.agent.host.ContainerNetns;
import dev.intervirt.agent.host.Hypervisor;
import dev.intervirt.agent.state.ContainerRecord;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.OptionalInt;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Which containers run, and the pid of their init (the way into their namespaces). Cached
 * from start to stop so that network operations need no libvirt round trip; checked (/proc)
 * at each {@link #of}, at {@link #ofRecent} once the last check is a second old. When a pid is
 * dropped or replaced, the namespace handle kept for it is released.
 */
@ApplicationScoped
public class InitPids {

    /** How long a look at /proc is trusted (as a namespace's check, see NamespaceSockets). */
    private static final long TRUSTED_NANOS = java.util.concurrent.TimeUnit.SECONDS.toNanos(1);

    /** A pid and when it was last seen alive. */
    private record Known(int pid, long checkedAt) {
        Known(int pid) {
            this(pid, System.nanoTime());
        }

        boolean recent() {
            return System.nanoTime() - checkedAt < TRUSTED_NANOS;
        }
    }

    private final Map<String, Known> pids = new ConcurrentHashMap<>();
    private Hypervisor hypervisor;
    private ContainerNetns netns;

    protected InitPids() {
        // for CDI proxies
    }

    @Inject
    public InitPids(Hypervisor hypervisor, ContainerNetns netns) {
        this.hypervisor = hypervisor;
        this.netns = netns;
    }

    public void started(String id, int pid) {
        released(pids.put(id, new Known(pid)), pid);
    }

    public void stopped(String id) {
        released(pids.remove(id), -1);
    }

    /**
     * Lets go of the handle on a container's namespace before it is stopped: an open socket
     * keeps a namespace (and the veth in it) alive after its last process has exited.
     */
    public void releaseNamespace(String id) {
        Known known = pids.get(id);
        if (known != null) {
            netns.release(known.pid());
        }
    }

    private void released(Known old, int current) {
        if (old != null && old.pid() != current) {
            netns.release(old.pid());
        }
    }

    /** The pid recorded at the last start, without asking libvirt; empty if none. */
    public OptionalInt cached(String id) {
        Known known = pids.get(id);
        return known == null ? OptionalInt.empty() : OptionalInt.of(known.pid());
    }

    /**
     * As {@link #of}, but a pid seen alive less than a second ago is taken without a look at
     * /proc (~10 % of a Connect's time): for a request's network change, which reaches the
     * namespace its socket keeps, harmlessly, when the init exited within that second.
     */
    public OptionalInt ofRecent(ContainerRecord container) {
        Known cached = pids.get(container.id());
        return cached != null && cached.recent() ? OptionalInt.of(cached.pid()) : of(container);
    }

    /** The init pid when the container runs; empty when it is stopped. */
    public OptionalInt of(ContainerRecord container) {
        Known cached = pids.get(container.id());
        if (cached != null && Files.exists(Path.of("/proc", Integer.toString(cached.pid())))) {
            pids.replace(container.id(), cached, new Known(cached.pid()));
            return OptionalInt.of(cached.pid());
        }
        released(pids.remove(container.id()), -1);
        String domain = hypervisor.domainName(container.id());
        if (!hypervisor.isRunning(domain)) {
            return OptionalInt.empty();
        }
        int pid = hypervisor.initPid(domain);
        started(container.id(), pid);
        return OptionalInt.of(pid);
    }
}
