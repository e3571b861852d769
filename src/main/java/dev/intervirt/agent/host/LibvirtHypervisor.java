package dev.intervirt.agent.host;

import org.libvirt.Connect;
import org.libvirt.Domain;
import org.libvirt.Error.ErrorNumber;
import org.libvirt.LibvirtException;
import org.libvirt.Library;
import org.libvirt.Network;
import org.libvirt.event.DomainEventType;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BiConsumer;
import java.util.function.IntConsumer;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Drives libvirt's LXC driver through libvirt-java. One connection, reopened when libvirtd
 * went away; every libvirt error becomes a {@link HostException} with libvirt's reason.
 */
public class LibvirtHypervisor implements Hypervisor {

    private static final Logger LOG = Logger.getLogger(LibvirtHypervisor.class.getName());
    private static final Duration POWEROFF_RESEND = Duration.ofMillis(500);
    private static final int START_ATTEMPTS = 4;
    private static boolean eventLoopStarted;
    /**
     * Every connection ever opened stays reachable: libvirt keeps pointers to the JNA callbacks
     * registered on it, and a collected connection (its finalizer, its callback objects) would
     * leave libvirt's event loop calling freed code (a SIGSEGV seen when a second agent started
     * in the same JVM). Few connections are ever made (one per start or libvirtd restart).
     */
    private static final List<Connect> RETAINED = new CopyOnWriteArrayList<>();
    private volatile boolean closed;
    private static final Duration WATCH_INTERVAL = Duration.ofSeconds(1);
    private Thread watchdog;
    private boolean everConnected;
    private final List<BiConsumer<String, StartKind>> startedListeners = new CopyOnWriteArrayList<>();

    private final String uri;
    private final boolean favorCgroupMoves;
    private final String network;
    private final String bridge;
    /** Domains the agent owns carry this prefix (and the agent's metadata namespace). */
    private final String domainPrefix;
    private final Path lxcRunDir;
    private Connect connection;

    /** {@code favorCgroupMoves}: make cgroup moves cheap before the first start ({@link CgroupMigrations}). */
    public LibvirtHypervisor(String uri, String network, String bridge, String domainPrefix, boolean favorCgroupMoves) {
        this.favorCgroupMoves = favorCgroupMoves;
        this.uri = uri;
        this.network = network;
        this.bridge = bridge;
        this.domainPrefix = domainPrefix;
        this.lxcRunDir = Path.of("/run/libvirt/lxc");
    }

    @Override
    public String domainName(String containerId) {
        return domainPrefix + containerId;
    }

    @Override
    public String containerIdOf(String domainName) {
        return domainName.substring(domainPrefix.length());
    }

    /**
     * Opens the connection now, so a start without libvirt fails fast with a clear reason, and
     * starts the watchdog that reopens it after a libvirtd restart without waiting for a request
     * (events come only through an open connection).
     */
    @Override
    public synchronized void connect() {
        if (watchdog == null && favorCgroupMoves) {
            // Before the first start: every start moves processes between cgroups.
            CgroupMigrations.favorMoves();
        }
        connection();
        if (watchdog == null) {
            watchdog = new Thread(this::watch, "libvirt-watchdog");
            watchdog.setDaemon(true);
            watchdog.start();
        }
    }

    private void watch() {
        boolean reported = false;
        while (!closed) {
            sleepQuietly(WATCH_INTERVAL.toMillis());
            if (closed) {
                return;
            }
            try {
                connection();
                reported = false;
            } catch (HostException e) {
                if (!reported) {
                    LOG.warning("libvirt is unreachable; requests that need it fail with code 4 until it is back: "
                            + e.getMessage());
                    reported = true;
                }
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "libvirt watchdog", e);
            }
        }
    }

    /**
     * After a reconnect: domains may have restarted while no connection could hear their events;
     * every running domain is reported as started (a listener compares init pids and re-applies
     * only what really restarted).
     */
    private void catchUpAfterReconnect() {
        Thread t = new Thread(() -> {
            try {
                for (String name : ownedDomains()) {
                    if (!closed && isRunning(name)) {
                        notifyStarted(name, StartKind.STARTED);
                    }
                }
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "cannot check the domains after reconnecting to libvirt", e);
            }
        }, "libvirt-reconnected");
        t.setDaemon(true);
        t.start();
    }

    private synchronized Connect connection() {
        try {
            if (connection != null && connection.isAlive()) {
                return connection;
            }
        } catch (LibvirtException e) {
            LOG.log(Level.FINE, "libvirt connection lost, reopening", e);
        }
        try {
            // Without a callback of our own libvirt-java prints every error to stderr as well.
            Connect.setErrorCallback(new org.libvirt.ErrorCallback());
            startEventLoop();
            boolean reconnect = connection != null || everConnected;
            connection = new Connect(uri);
            RETAINED.add(connection);
            registerListeners(connection);
            everConnected = true;
            if (reconnect) {
                LOG.info("reconnected to libvirt at " + uri);
                catchUpAfterReconnect();
            }
            return connection;
        } catch (LibvirtException e) {
            connection = null;
            throw HostException.unavailable("Cannot reach libvirt at " + uri + ": " + reason(e), e);
        }
    }

    @Override
    public synchronized void onDomainStarted(BiConsumer<String, StartKind> listener) {
        startedListeners.add(listener);
    }

    /** libvirt delivers events only while its loop runs, and only if it ran before the connection opened. */
    private static synchronized void startEventLoop() throws LibvirtException {
        if (eventLoopStarted) {
            return;
        }
        Library.initEventLoop();
        Thread loop = new Thread(() -> {
            try {
                Library.runEventLoop();
            } catch (LibvirtException | InterruptedException e) {
                LOG.warning("libvirt event loop ended: " + e.getMessage());
            }
        }, "libvirt-events");
        loop.setDaemon(true);
        loop.start();
        eventLoopStarted = true;
    }

    private void registerListeners(Connect c) throws LibvirtException {
        c.addLifecycleListener((domain, event) -> {
            if (event.getType() == DomainEventType.STARTED) {
                notifyStarted(domain, StartKind.STARTED);
            }
            return 0;
        });
        // A reboot inside an LXC domain comes as a reboot event only (no STOPPED/STARTED); its
        // new pid 1 runs the placement script again and waits for the host's placement too.
        c.addRebootListener(domain -> {
            placeInitOf(domain);
            notifyStarted(domain, StartKind.REBOOTED);
        });
    }

    /** The cgroup placement of a domain's new pid 1 after a reboot inside it (see InitCgroupPlacement). */
    private void placeInitOf(Domain domain) {
        if (closed) {
            return;
        }
        try {
            String name = nameOf(domain);
            if (name.startsWith(domainPrefix)) {
                // Not on the event loop: finding the new pid 1 may wait for libvirt's pid file.
                Thread t = new Thread(() -> {
                    try {
                        InitCgroupPlacement.place(initPid(name));
                    } catch (RuntimeException e) {
                        LOG.log(Level.FINE, "no cgroup placement after a reboot of " + name + " (it places itself)", e);
                    }
                }, "cgroup-placement");
                t.setDaemon(true);
                t.start();
            }
        } catch (LibvirtException e) {
            LOG.log(Level.FINE, "no cgroup placement after a reboot (the container places itself)", e);
        }
    }

    /** Stops delivering events to this instance's listeners (libvirt may still call in). */
    @Override
    public void close() {
        closed = true;
        startedListeners.clear();
    }

    private void notifyStarted(Domain domain, StartKind kind) {
        if (closed) {
            return;
        }
        try {
            notifyStarted(nameOf(domain), kind);
        } catch (LibvirtException e) {
            LOG.log(Level.WARNING, "cannot handle a libvirt " + kind + " event", e);
        }
    }

    private void notifyStarted(String name, StartKind kind) {
        if (closed || !name.startsWith(domainPrefix)) {
            return;
        }
        try {
            for (BiConsumer<String, StartKind> l : startedListeners) {
                l.accept(name, kind);
            }
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "cannot handle a libvirt " + kind + " event", e);
        }
    }

    @Override
    public void ensureNetwork() {
        ensureLibvirtStateDirs();
        call("prepare network", () -> {
            Network net;
            try {
                net = connection().networkLookupByName(network);
            } catch (LibvirtException e) {
                if (code(e) != ErrorNumber.VIR_ERR_NO_NETWORK) {
                    throw e;
                }
                net = connection().networkDefineXML(DomainXml.network(network, bridge));
            }
            try {
                if (net.isActive() == 1 && !bridgeExists()) {
                    // Deleted underneath (ip link delete, a careless tool): libvirt still calls the
                    // network active, and every plug would fail with "Cannot find device".
                    LOG.warning("bridge " + bridge + " of the active network " + network + " is gone; restarting the network");
                    net.destroy();
                }
                if (net.isActive() != 1) {
                    net.create();
                }
                if (!net.getAutostart()) {
                    net.setAutostart(true);
                }
            } finally {
                free(net);
            }
            return null;
        });
    }

    @Override
    public boolean networkIntact() {
        if (!bridgeExists()) {
            return false;
        }
        return call("look up network " + network, () -> {
            Network net = connection().networkLookupByName(network);
            try {
                return net.isActive() == 1;
            } finally {
                free(net);
            }
        });
    }

    private boolean bridgeExists() {
        return Files.isDirectory(Path.of("/sys/class/net", bridge, "bridge"));
    }

    /**
     * libvirt writes each network's MAC map to {@code /var/lib/libvirt/dnsmasq/BRIDGE.macs} when a
     * domain's interface is plugged, even with no dnsmasq; only the package that ships dnsmasq's
     * configuration makes that directory, so a host without it fails every start ("Failed to
     * create file '/var/lib/libvirt/dnsmasq/….macs.new'"). The agent owns this precondition.
     */
    private static void ensureLibvirtStateDirs() {
        Path dir = LIBVIRT_DNSMASQ_DIR;
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw HostException.unavailable("Cannot create " + dir + ", which libvirt needs to plug containers into the network: " + e.getMessage(), e);
        }
    }

    private static final Path LIBVIRT_DNSMASQ_DIR = Path.of("/var/lib/libvirt/dnsmasq");

    @Override
    public void define(DomainSpec spec) {
        call("define " + spec.name(), () -> {
            free(connection().domainDefineXML(DomainXml.domain(spec, network)));
            return null;
        });
    }

    @Override
    public void redefine(DomainSpec spec) {
        call("define " + spec.name(), () -> {
            // With its own uuid: libvirt takes that as an update of the domain's definition.
            String uuid = withDomain(spec.name(), true, Domain::getUUIDString);
            free(connection().domainDefineXML(DomainXml.domain(spec, network, uuid)));
            return null;
        });
    }

    @Override
    public void undefine(String name) {
        call("undefine " + name, () -> withDomain(name, false, d -> {
            if (d != null) {
                if (d.isActive() == 1) {
                    d.destroy();
                }
                d.undefine();
            }
            return null;
        }));
    }

    @Override
    public boolean exists(String name) {
        return call("look up " + name, () -> withDomain(name, false, d -> d != null));
    }

    @Override
    public boolean isRunning(String name) {
        return call("look up " + name, () -> withDomain(name, false, d -> d != null && d.isActive() == 1));
    }

    @Override
    public int start(String name, IntConsumer withInit) {
        // Also here, not only at start: the directory may be removed while the agent runs, and
        // every start would then fail (one stat when it is there).
        ensureLibvirtStateDirs();
        long begun = System.nanoTime();
        int pid = createAndPlace(name);
        // pid 1 execs the image's init on its own meanwhile; the caller's work does not wait for it.
        withInit.accept(pid);
        awaitInitExec(pid, Math.min(System.nanoTime() + INIT_EXEC_WAIT.toNanos(), begun + INIT_EXEC_BUDGET.toNanos()));
        runningCpuWeight.lower(name, pid);
        return pid;
    }

    /**
     * libvirt's start, then pid 1's placement (which it waits for). On hybrid cgroup hosts the
     * controller sometimes finds a cgroup it has just made gone ("Unable to write to
     * '/sys/fs/cgroup/blkio/machine/lxc-…/tasks'") while another container's systemd boots;
     * libvirt has cleaned up by then, so the start is tried again.
     */
    private int createAndPlace(String name) {
        for (int attempt = 1; ; attempt++) {
            try {
                call("start " + name, () -> withDomain(name, true, Domain::create));
                int pid = initPid(name);
                InitCgroupPlacement.place(pid); // pid 1's script waits for this (DomainXml.CGROUP_PLACEMENT)
                preferContainerAsOomVictim(name, pid);
                return pid;
            } catch (HostException e) {
                boolean cgroupRace = e.getMessage() != null && e.getMessage().contains("/sys/fs/cgroup/");
                if (!cgroupRace || attempt >= START_ATTEMPTS || isRunning(name)) {
                    throw e;
                }
                LOG.info("start of " + name + " hit a cgroup race (attempt " + attempt + "); trying again");
                sleep(100L * attempt);
            }
        }
    }

    /**
     * libvirt_lxc lives in the container's memory cgroup; with the container at its limit the
     * OOM killer picked it (the largest file RSS) and the whole container ended. The container's
     * processes are made the preferred victims instead: its init gets {@value #CONTAINER_OOM_SCORE_ADJ}
     * (inherited by everything it starts; raising needs no privilege, while exempting the
     * controller needs CAP_SYS_RESOURCE, which build machines in containers lack).
     */
    private void preferContainerAsOomVictim(String name, int init) {
        try {
            Files.writeString(Path.of("/proc", Integer.toString(init), "oom_score_adj"), CONTAINER_OOM_SCORE_ADJ);
        } catch (IOException | RuntimeException e) {
            LOG.warning("cannot make the processes of " + name + " the OOM killer's first choice: " + e.getMessage());
        }
    }

    private static final String CONTAINER_OOM_SCORE_ADJ = "500";
    private final RunningCpuWeight runningCpuWeight = new RunningCpuWeight();

    /** How long a start waits for pid 1 to exec the image's init once libvirt started the domain. */
    private static final Duration INIT_EXEC_WAIT = Duration.ofSeconds(3);
    /**
     * No waiting for that exec past this much of a start: the client gives StartContainer 10 s,
     * and under its emulated CPU, with other computers booting beside, libvirt's part alone took
     * up to 7.5 s (the exec follows within moments; nothing the reply promises depends on it).
     */
    private static final Duration INIT_EXEC_BUDGET = Duration.ofSeconds(6);
    /** Polls for that exec: every 0.1 ms for the first 2 ms, then every 1 ms. */
    private static final long FINE_POLL_NANOS = 100_000;
    private static final long FINE_POLLS_FOR_NANOS = 2_000_000;
    private static final long COARSE_POLL_NANOS = 1_000_000;

    /**
     * Waits (briefly, until {@code deadline}, a {@link System#nanoTime()}) until pid 1 has left
     * the cgroup-placement script for the image's own init (DomainXml.CGROUP_PLACEMENT), so a
     * start reply means the container's init runs.
     */
    private static void awaitInitExec(int pid, long deadline) {
        Path cmdline = Path.of("/proc", Integer.toString(pid), "cmdline");
        long since = System.nanoTime();
        while (System.nanoTime() < deadline) {
            try {
                // Still libvirt_lxc's clone (before its exec of the script), or the script itself.
                String running = Files.readString(cmdline);
                if (!running.contains("/dev/.ivcg") && !running.contains("libvirt_lxc")) {
                    return;
                }
            } catch (IOException e) {
                return; // gone: the start's own checks report it
            }
            // A start waits on this: a poll adds its half-period to every start (1 ms polls: 0.9 ms
            // median wait here, though the script sees its placement within 0.15 ms). Finer at
            // first only: on one emulated vCPU a read costs far more, and the exec needs the CPU.
            long waited = System.nanoTime() - since;
            LockSupport.parkNanos(waited < FINE_POLLS_FOR_NANOS ? FINE_POLL_NANOS : COARSE_POLL_NANOS);
            if (Thread.interrupted()) {
                Thread.currentThread().interrupt();
                throw HostException.unavailable("interrupted");
            }
        }
        LOG.warning("pid " + pid + " still runs the cgroup placement; replying without waiting longer");
    }

    @Override
    public int initPid(String name) {
        Path pidFile = lxcRunDir.resolve(name + ".pid");
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (true) {
            try {
                int pid = LxcInitPid.read(pidFile);
                if (pid != 0) {
                    return pid;
                }
            } catch (IOException | NumberFormatException e) {
                throw HostException.unavailable("Cannot find the init process of " + name + ": " + e.getMessage(), e);
            }
            if (System.nanoTime() > deadline) {
                throw HostException.unavailable("Cannot find the init process of " + name + " (is it running?)");
            }
            sleep(1); // a start waits on this: a coarse poll would add its half-period to every start
        }
    }

    /**
     * systemd powers off on SIGRTMIN+4 at any moment, even right after start; libvirt's own
     * shutdown goes through /run/initctl, which does not exist yet early in boot, and then
     * falls back to SIGTERM, which systemd ignores. A hard stop kills init (0.3 s) rather than
     * {@code virDomainDestroy} (1.8 s on a systemd container), which remains the last resort.
     */
    @Override
    public boolean stop(String name, Duration grace) {
        if (!isRunning(name)) {
            return true;
        }
        int init = initPid(name);
        long deadline = System.nanoTime() + grace.toNanos();
        while (System.nanoTime() < deadline) {
            // Repeated: an init that has just been exec'd may not handle the signal yet.
            signal("-RTMIN+4", init);
            long slice = Math.min(POWEROFF_RESEND.toNanos(), deadline - System.nanoTime());
            if (awaitStopped(name, init, Duration.ofNanos(Math.max(0, slice)))) {
                return true;
            }
        }
        signal("-KILL", init);
        if (!awaitStopped(name, init, Duration.ofSeconds(3))) {
            call("stop " + name, () -> withDomain(name, false, d -> {
                if (d != null && d.isActive() == 1) {
                    d.destroy();
                }
                return null;
            }));
        }
        return false;
    }

    /**
     * Whether the domain stopped. libvirt says so; while libvirt is unreachable (a libvirtd
     * restart) the container's init having exited says so too: libvirt_lxc ends with it.
     */
    private boolean awaitStopped(String name, int init, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            try {
                if (!isRunning(name)) {
                    return true;
                }
            } catch (HostException libvirtDown) {
                if (!Files.exists(Path.of("/proc", Integer.toString(init)))) {
                    return true;
                }
                if (System.nanoTime() >= deadline) {
                    throw libvirtDown;
                }
            }
            if (System.nanoTime() >= deadline) {
                return false;
            }
            sleep(25);
        }
    }

    private static void signal(String signal, int pid) {
        // The process may be gone already; the state poll decides.
        ProcessRunner.exec(java.util.List.of("kill", signal, Integer.toString(pid)), null, 5);
    }

    @Override
    public Set<String> ownedDomains() {
        return call("list domains", () -> {
            Set<String> names = new HashSet<>();
            for (Domain d : connection().listAllDomains(0)) {
                try {
                    String n = d.getName();
                    if (n.startsWith(domainPrefix) && carriesOwnLabel(d, n)) {
                        names.add(n);
                    }
                } finally {
                    free(d);
                }
            }
            return names;
        });
    }

    /**
     * Whether the domain carries this agent's label: its metadata element with our owner (the
     * network's name) and the id its name says. Domains made before the label existed carry the
     * element without an owner and are adopted by name. A domain that merely shares the prefix
     * (made by hand, or by another tool) is never touched.
     */
    private boolean carriesOwnLabel(Domain d, String name) throws LibvirtException {
        String xml;
        try {
            xml = d.getMetadata(org.libvirt.Domain.MetadataType.ELEMENT, DomainXml.METADATA_NS, 0);
        } catch (LibvirtException e) {
            if (code(e) == ErrorNumber.VIR_ERR_NO_DOMAIN_METADATA) {
                return false;
            }
            throw e;
        }
        String id = containerIdOf(name);
        boolean ownId = xml.contains("id=\"" + id + "\"");
        boolean ownOwner = xml.contains("owner=\"" + network + "\"");
        boolean legacy = !xml.contains("owner=");
        return ownId && (ownOwner || legacy);
    }

    /**
     * Runs {@code work} on the named domain (null if there is none; with {@code required}, a
     * missing one is an error) and frees it after. libvirt-java frees a domain in its finalizer,
     * which may run as soon as the object is otherwise unreachable, even while a native call on
     * its pointer is under way (a wipe's undefine failed with "invalid domain pointer"): the free
     * in {@code finally} keeps it reachable until the work is done, and releases it at once.
     */
    private <T> T withDomain(String name, boolean required, DomainWork<T> work) throws LibvirtException {
        Domain d = required ? required(name) : lookup(name);
        try {
            return work.apply(d);
        } finally {
            free(d);
        }
    }

    private interface DomainWork<T> {
        T apply(Domain d) throws LibvirtException;
    }

    /** An event's domain is libvirt-java's to free: kept reachable until its name is read. */
    private static String nameOf(Domain domain) throws LibvirtException {
        try {
            return domain.getName();
        } finally {
            java.lang.ref.Reference.reachabilityFence(domain);
        }
    }

    private static void free(Domain d) {
        if (d != null) {
            try {
                d.free();
            } catch (LibvirtException e) {
                LOG.log(Level.FINE, "freeing a libvirt domain handle failed", e);
            }
        }
    }

    private static void free(Network n) {
        try {
            n.free();
        } catch (LibvirtException e) {
            LOG.log(Level.FINE, "freeing a libvirt network handle failed", e);
        }
    }

    private Domain lookup(String name) throws LibvirtException {
        try {
            return connection().domainLookupByName(name);
        } catch (LibvirtException e) {
            if (code(e) == ErrorNumber.VIR_ERR_NO_DOMAIN) {
                return null;
            }
            throw e;
        }
    }

    private Domain required(String name) throws LibvirtException {
        Domain d = lookup(name);
        if (d == null) {
            throw HostException.missing("libvirt has no domain " + name + ".");
        }
        return d;
    }

    private interface LibvirtCall<T> {
        T run() throws LibvirtException;
    }

    private <T> T call(String what, LibvirtCall<T> call) {
        try {
            return call.run();
        } catch (LibvirtException e) {
            // A dead connection is reopened on the next call.
            synchronized (this) {
                try {
                    if (connection != null && !connection.isAlive()) {
                        connection = null;
                    }
                } catch (LibvirtException ignored) {
                    connection = null;
                }
            }
            throw HostException.unavailable("libvirt could not " + what + ": " + reason(e), e);
        }
    }

    private static ErrorNumber code(LibvirtException e) {
        return e.getError() == null ? null : e.getError().getCode();
    }

    private static String reason(LibvirtException e) {
        return e.getError() != null && e.getError().getMessage() != null ? e.getError().getMessage() : String.valueOf(e.getMessage());
    }

    private static void sleepQuietly(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw HostException.unavailable("interrupted");
        }
    }
}
