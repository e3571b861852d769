package dev.intervirt.agent.app;

import dev.intervirt.agent.container.RestartWatcher;
import dev.intervirt.agent.dispatch.StepTimer;
import dev.intervirt.agent.host.Firewall;
import dev.intervirt.agent.host.HelperProcesses;
import dev.intervirt.agent.host.Hypervisor;
import dev.intervirt.agent.host.ProcessRunner;
import dev.intervirt.agent.image.ImageStore;
import dev.intervirt.agent.protocol.AgentException;
import dev.intervirt.agent.protocol.ErrorCode;
import dev.intervirt.agent.state.NetworkWatch;
import dev.intervirt.agent.state.Reconciler;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.context.BeforeDestroyed;
import jakarta.enterprise.context.Initialized;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;

import java.time.Duration;
import java.util.logging.Logger;

/**
 * The agent's one lifecycle, started and stopped by the CDI container's own events: Weld SE in
 * the standalone jar ({@link AgentServer} starts the WebSocket server once it is up), the Jakarta
 * runtime in the WAR. Start: end a killed predecessor's helpers, connect to libvirt, follow
 * restarts inside containers, reconcile the host with the stored topology, watch the agent's own
 * network, prefetch images in the background. Stop: the reverse; containers keep running.
 * A failure at start fails the container's start (the jar's start, the WAR's deployment) with
 * the reason in one line.
 */
@ApplicationScoped
public class AgentLifecycle {

    private static final Logger LOG = Logger.getLogger(AgentLifecycle.class.getName());
    /** How long a builder gets to clean up (unmount, remove its temporary tree) after SIGTERM. */
    private static final Duration HELPER_GRACE = Duration.ofSeconds(5);

    @Inject
    AgentConfig config;
    @Inject
    Hypervisor hypervisor;
    @Inject
    RestartWatcher restartWatcher;
    @Inject
    Reconciler reconciler;
    @Inject
    NetworkWatch networkWatch;
    @Inject
    ImageStore images;
    @Inject
    Firewall firewall;

    void start(@Observes @Initialized(ApplicationScoped.class) Object context) {
        if (!isRoot()) {
            throw new AgentException(ErrorCode.GUEST, "must run as root (it manages containers, mounts and nftables).");
        }
        StepTimer steps = new StepTimer("agent start (owner " + config.ownerName() + ")");
        // Before anything touches the host: a killed predecessor's nft or ip may still be running.
        HelperProcesses.configure(config.ownerName());
        HelperProcesses.killOrphans();
        steps.lap("helpers");
        hypervisor.connect();
        restartWatcher.watch();
        steps.lap("libvirt");
        reconciler.reconcile();
        steps.lap("reconcile");
        networkWatch.start();
        // In the background: requests for an image still on its way are answered at once (code 6).
        images.prefetch(config.images().prefetch());
        steps.lap("prefetch");
        steps.log(LOG);
    }

    void stop(@Observes @BeforeDestroyed(ApplicationScoped.class) Object context) {
        networkWatch.stop();
        images.close();
        // Nothing the agent started may outlive it: builders, downloads' unpacking, host tools.
        int ended = ProcessRunner.endAll(HELPER_GRACE);
        if (ended > 0) {
            LOG.info("ended " + ended + " helper process(es) at stop");
        }
        firewall.close();
        hypervisor.close();
        LOG.info("agent stopped (containers keep running)");
    }

    static boolean isRoot() {
        return new com.sun.security.auth.module.UnixSystem().getUid() == 0;
    }
}
