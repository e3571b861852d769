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
 * from start to stop so that network operations need no libvirt round trip. When a pid is
 * dropped or replaced, the namespace handle kept for it is released.
 */
@ApplicationScoped
public class InitPids {

    private final Map<String, Integer> pids = new ConcurrentHashMap<>();
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
        released(pids.put(id, pid), pid);
    }

    public void stopped(String id) {
        released(pids.remove(id), -1);
    }

    /**
     * Lets go of the handle on a container's namespace before it is stopped: an open socket
     * keeps a namespace (and the veth in it) alive after its last process has exited.
     */
    public void releaseNamespace(String id) {
        Integer pid = pids.get(id);
        if (pid != null) {
            netns.release(pid);
        }
    }

    private void released(Integer old, int current) {
        if (old != null && old != current) {
            netns.release(old);
        }
    }

    /** The pid recorded at the last start, without asking libvirt; empty if none. */
    public OptionalInt cached(String id) {
        Integer pid = pids.get(id);
        return pid == null ? OptionalInt.empty() : OptionalInt.of(pid);
    }

    /** The init pid when the container runs; empty when it is stopped. */
    public OptionalInt of(ContainerRecord container) {
        Integer cached = pids.get(container.id());
        if (cached != null && Files.exists(Path.of("/proc", cached.toString()))) {
            return OptionalInt.of(cached);
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
