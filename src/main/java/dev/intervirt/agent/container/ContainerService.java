package dev.intervirt.agent.container;

import dev.intervirt.agent.app.AgentConfig;
import dev.intervirt.agent.concurrent.Alongside;
import dev.intervirt.agent.dispatch.Progress;
import dev.intervirt.agent.dispatch.StepTimer;
import dev.intervirt.agent.host.Hypervisor;
import dev.intervirt.agent.host.Hypervisor.DomainSpec;
import dev.intervirt.agent.host.OverlayRootfs;
import dev.intervirt.agent.host.PidLimits;
import dev.intervirt.agent.host.Undo;
import dev.intervirt.agent.image.ImageStore;
import dev.intervirt.agent.network.NetworkService;
import dev.intervirt.agent.protocol.AgentException;
import dev.intervirt.agent.protocol.Request.AddContainer;
import dev.intervirt.agent.state.ContainerRecord;
import dev.intervirt.agent.state.Topology;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.logging.Logger;

/**
 * The life of a container: add (define, stopped), start, stop, remove. Each step that touches
 * the host registers its undo, so a failure midway leaves no orphan domain, mount or file.
 */
@ApplicationScoped
public class ContainerService {

    private static final Logger LOG = Logger.getLogger(ContainerService.class.getName());
    private static final Duration REBOOT_WAIT = Duration.ofSeconds(20);
    /** The host side of a new container's network while libvirt defines it; a start's limit and save while its network is set up. */
    private final Alongside alongside = new Alongside("alongside-libvirt");

    private Topology topology;
    private Hypervisor hypervisor;
    private OverlayRootfs rootfs;
    private ImageStore images;
    private NetworkService network;
    private InitPids pids;
    private PidLimits pidLimits;
    private AgentConfig config;

    protected ContainerService() {
        // for CDI proxies
    }

    @Inject
    public ContainerService(Topology topology, Hypervisor hypervisor, OverlayRootfs rootfs, ImageStore images,
                            NetworkService network, InitPids pids, PidLimits pidLimits,
                            AgentConfig config) {
        this.topology = topology;
        this.hypervisor = hypervisor;
        this.rootfs = rootfs;
        this.images = images;
        this.network = network;
        this.pids = pids;
        this.pidLimits = pidLimits;
        this.config = config;
    }

    @jakarta.annotation.PreDestroy
    void shutdown() {
        alongside.close();
    }

    /** Creates the container, stopped. Returns a note for the learner, or null. */
    public String add(AddContainer request) {
        if (topology.find(request.id()).isPresent()) {
            throw AgentException.alreadyDone("Container " + request.id() + " already exists.");
        }
        Path image = images.resolve(request.image());
        ContainerRecord c;
        StepTimer steps = new StepTimer("add " + request.id());
        try (Undo undo = new Undo()) {
            c = topology.addContainer(request.id(), request.mac(), request.ipv4(), request.ipv6(), request.internet(),
                    request.image());
            undo.push(() -> topology.removeContainer(request.id()));
            steps.lap("save");
            Path root = rootfs.create(c.id());
            undo.push(() -> rootfs.delete(c.id()));
            steps.lap("dirs");
            String domain = hypervisor.domainName(c.id());
            // The host side of the network does not depend on the domain: made while libvirt defines it.
            alongside.run(() -> network.attach(c), () -> network.detach(c), () -> {
                hypervisor.define(spec(c, root, image));
                undo.push(() -> hypervisor.undefine(domain));
                steps.lap("define");
            });
            undo.push(() -> network.detach(c));
            steps.lap("network");
            undo.commit();
        }
        steps.log(LOG);
        if (request.requestedMac() != null) {
            String note = "MAC " + request.requestedMac() + " is a group address; using " + request.mac() + ".";
            LOG.info(request.id() + ": " + note);
            return note;
        }
        return null;
    }

    public void start(String id) {
        ContainerRecord c = topology.get(id);
        String domain = hypervisor.domainName(id);
        if (hypervisor.isRunning(domain)) {
            throw AgentException.alreadyDone("Container " + id + " is already running.");
        }
        Path image = images.resolve(c.image());
        StepTimer steps = new StepTimer("start " + id);
        // Stopped from inside: a socket kept on its old namespace would keep its old veth.
        pids.releaseNamespace(id);
        awaitPortGone(c.port());
        try (Undo undo = new Undo()) {
            rootfs.mount(id, image);
            undo.push(() -> rootfs.unmount(id));
            steps.lap("mount");
            redefineIfDocker(c);
            NetworkGuards.install(rootfs.rootOf(id));
            steps.lap("guards");
            hypervisor.start(domain, pid -> withInit(c, domain, pid, undo, steps));
            steps.lap("init");
            undo.commit();
        }
        steps.log(LOG);
    }

    /**
     * A start's work once its init pid is known, while pid 1 goes on to exec the image's init:
     * the network, and beside it the pid limit and the saved running flag; the domain's stop as
     * the undo step.
     */
    private void withInit(ContainerRecord c, String domain, int pid, Undo undo, StepTimer steps) {
        undo.push(() -> {
            pids.stopped(c.id());
            hypervisor.stop(domain, Duration.ZERO);
        });
        steps.lap("libvirt");
        pids.started(c.id(), pid);
        // The limit first: should it fail, the computer is not saved as running.
        alongside.run(() -> {
            pidLimits.apply(domain, pid);
            topology.update(c.withRunning(true));
        }, () -> topology.update(c), () -> {
            network.configureStarted(c, pid);
            steps.lap("network");
        });
        steps.lap("saved");
    }

    public void stop(String id) {
        ContainerRecord c = topology.get(id);
        String domain = hypervisor.domainName(id);
        if (!hypervisor.isRunning(domain)) {
            throw AgentException.alreadyDone("Container " + id + " is not running.");
        }
        stopDomain(c);
        topology.update(c.withRunning(false));
    }

    /**
     * Stops a running container gracefully (as {@link #stop}) but keeps its running intent in
     * the topology: for a guest shutdown or reboot, after which the reconciler starts it again,
     * and for a restart. A container that is not running is left alone.
     */
    public void stopKeepingIntent(String id) {
        stopDomain(topology.get(id));
    }

    public void remove(String id, Progress progress) {
        ContainerRecord c = topology.get(id);
        String domain = hypervisor.domainName(id);
        progress.report(0.1, "Shutting down container " + id + "...");
        stopDomain(c);
        progress.report(0.5, "Removing links and port forwardings of " + id + "...");
        network.detach(c);
        progress.report(0.7, "Removing container " + id + "...");
        hypervisor.undefine(domain);
        progress.report(0.9, "Deleting the files of " + id + "...");
        rootfs.delete(id);
        topology.removeContainer(id);
    }

    /**
     * For the wipe: stops the container hard (its files are deleted next, so a graceful
     * shutdown gains nothing; 0.3 s instead of up to the grace period), undefines it and deletes
     * its files. Its network and topology entry are the caller's, which clears them once for
     * every container. Idempotent.
     */
    public void destroyForWipe(String id) {
        String domain = hypervisor.domainName(id);
        pids.releaseNamespace(id);
        if (hypervisor.isRunning(domain)) {
            hypervisor.stop(domain, Duration.ZERO);
        }
        pids.stopped(id);
        pidLimits.release(domain);
        hypervisor.undefine(domain);
        rootfs.delete(id);
    }

    /**
     * Brings one stored container back to its desired state after an agent start: defined, and
     * running with its network when it is meant to run (stopped otherwise).
     */
    public void restore(ContainerRecord c) {
        String domain = hypervisor.domainName(c.id());
        boolean existed = hypervisor.exists(domain);
        if (!existed) {
            Path root = rootfs.create(c.id());
            hypervisor.define(spec(c, root, images.rootfsPath(c.image())));
        }
        boolean running = hypervisor.isRunning(domain);
        if (existed && !running) {
            // A definition an older agent wrote (no tools mount for SFTP, no Docker needs) is
            // brought up to this agent's while the domain is stopped (after a guest reboot: all).
            hypervisor.redefine(spec(c, rootfs.rootOf(c.id()), images.rootfsPath(c.image())));
        }
        if (c.running() && !running) {
            rootfs.mount(c.id(), images.resolve(c.image()));
            redefineIfDocker(c);
            NetworkGuards.install(rootfs.rootOf(c.id()));
            hypervisor.start(domain, pid -> {
                pids.started(c.id(), pid);
                pidLimits.apply(domain, pid);
                network.configureStarted(c, pid);
            });
        } else if (c.running()) {
            int pid = hypervisor.initPid(domain);
            pids.started(c.id(), pid);
            network.configureStarted(c, pid);
        } else if (running) {
            stopDomain(c);
        } else {
            rootfs.unmount(c.id());
        }
    }

    /**
     * Re-applies the network and limits of a container that libvirt started without us (a
     * reboot inside it): its new init has none of the addresses and routes. A start the agent
     * made itself is recognised by its init pid and left alone.
     */
    public void reapplyAfterRestart(String id, boolean rebooted) {
        ContainerRecord c = topology.find(id).orElse(null);
        String domain = hypervisor.domainName(id);
        int known = pids.cached(id).orElse(-1);
        // After a reboot event the old init may still be there for a moment: wait for the new one.
        long deadline = System.nanoTime() + (rebooted ? REBOOT_WAIT.toNanos() : 0);
        int pid;
        do {
            if (c == null || !hypervisor.isRunning(domain)) {
                return;
            }
            pid = hypervisor.initPid(domain);
            if (pid != known) {
                break;
            }
            sleepQuietly(100);
        } while (System.nanoTime() < deadline);
        if (pid == known) {
            return;
        }
        LOG.info(id + ": restarted from inside (init " + pid + "); re-applying its network");
        pids.started(id, pid);
        pidLimits.apply(domain, pid);
        network.configureStarted(c, pid);
    }

    /**
     * The domain of a container whose root {@code root} is: a computer whose root has Docker
     * (the image's, or one a learner installed) gets what Docker needs and its own
     * {@code /var/lib/docker} directory beside its overlay (see {@link dev.intervirt.agent.host.DomainXml}).
     */
    private DomainSpec spec(ContainerRecord c, Path mountPoint, Path root) {
        Path dockerData = hasDocker(root) ? rootfs.dockerDataOf(c.id()) : null;
        return new DomainSpec(hypervisor.domainName(c.id()), c.id(), mountPoint, c.mac(), c.port(), config.memoryMiB(),
                dev.intervirt.agent.ssh.ComputerTools.dir(config.stateDir()), dockerData);
    }

    /**
     * Before each start of a computer that has Docker (its mounted root): the definition is
     * written again, so a domain defined before Docker was installed, or by an older agent,
     * starts with what Docker needs. Other computers keep their definition untouched.
     */
    private void redefineIfDocker(ContainerRecord c) {
        Path root = rootfs.rootOf(c.id());
        if (hasDocker(root)) {
            hypervisor.redefine(spec(c, root, root));
        }
    }

    static boolean hasDocker(Path root) {
        return Files.exists(root.resolve("usr/sbin/dockerd"), LinkOption.NOFOLLOW_LINKS)
                || Files.exists(root.resolve("usr/bin/dockerd"), LinkOption.NOFOLLOW_LINKS);
    }

    private static void sleepQuietly(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Graceful stop with the configured grace, then hard; the overlay is unmounted after. */
    private void stopDomain(ContainerRecord c) {
        String domain = hypervisor.domainName(c.id());
        pids.releaseNamespace(c.id());
        if (hypervisor.isRunning(domain)) {
            boolean clean = hypervisor.stop(domain, config.stopGrace());
            if (!clean) {
                LOG.info(c.id() + ": init did not stop within " + config.stopGrace().toSeconds() + " s; stopped hard");
            }
        }
        pids.stopped(c.id());
        awaitPortGone(c.port());
        pidLimits.release(domain);
        rootfs.unmount(c.id());
    }

    /**
     * The container's veth goes with its network namespace, which the kernel frees a moment
     * after the last process has exited: a stop reply means the port is gone (bounded wait).
     */
    private static void awaitPortGone(String port) {
        Path dev = Path.of("/sys/class/net", port);
        long deadline = System.nanoTime() + Duration.ofSeconds(2).toNanos();
        while (java.nio.file.Files.exists(dev, java.nio.file.LinkOption.NOFOLLOW_LINKS) && System.nanoTime() < deadline) {
            sleepQuietly(5);
        }
    }
}
