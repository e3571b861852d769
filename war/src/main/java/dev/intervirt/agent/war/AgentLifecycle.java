package dev.intervirt.agent.war;

import dev.intervirt.agent.app.AgentConfig;
import dev.intervirt.agent.container.RestartWatcher;
import dev.intervirt.agent.host.Hypervisor;
import dev.intervirt.agent.host.LibvirtHypervisor;
import dev.intervirt.agent.image.ImageStore;
import dev.intervirt.agent.protocol.AgentException;
import dev.intervirt.agent.state.Reconciler;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.context.BeforeDestroyed;
import jakarta.enterprise.context.Initialized;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import org.libvirt.Library;
import org.libvirt.LibvirtException;

import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * What {@code AgentServer} does in the standalone jar, for a Jakarta runtime that already serves
 * WebSocket and CDI: when the application starts, connect to libvirt, follow restarts inside
 * containers and re-apply the saved topology; when it stops, stop listening to libvirt.
 * Containers keep running across an undeploy, as across a stop of the standalone agent.
 * A failure here fails the deployment with the reason (no root, libvirt unreachable, ...).
 */
@ApplicationScoped
public class AgentLifecycle {

    private static final Logger LOG = Logger.getLogger(AgentLifecycle.class.getName());

    @Inject
    AgentConfig config;
    @Inject
    Hypervisor hypervisor;
    @Inject
    RestartWatcher restartWatcher;
    @Inject
    Reconciler reconciler;
    @Inject
    ImageStore images;
    @Inject
    dev.intervirt.agent.state.NetworkWatch networkWatch;
    @Inject
    dev.intervirt.agent.host.Firewall firewall;

    void start(@Observes @Initialized(ApplicationScoped.class) Object context) {
        long t0 = System.nanoTime();
        if (!isRoot()) {
            throw new IllegalStateException("intervirt-agent: the runtime must run as root "
                    + "(the agent manages containers, mounts and nftables).");
        }
        // Before anything touches the host: a killed predecessor's nft or ip may still be running.
        dev.intervirt.agent.host.HelperProcesses.killOrphans();
        try {
            if (hypervisor instanceof LibvirtHypervisor libvirt) {
                libvirt.connect();
            }
            restartWatcher.watch();
            reconciler.reconcile();
            networkWatch.start();
        } catch (AgentException e) {
            throw new IllegalStateException("intervirt-agent: " + e.getMessage(), e);
        }
        LOG.info(String.format("intervirt agent ready at /containerManagement of this application "
                        + "(owner %s, libvirt %s, state %s, images %s; started in %d ms)", config.ownerName(),
                config.libvirtUri(), config.stateDir(), config.imageDir(), (System.nanoTime() - t0) / 1_000_000));
        // In the background, as in the standalone jar: requests for an image still on its way
        // are answered at once (code 6).
        images.prefetch(config.images().prefetch());
    }

    void stop(@Observes @BeforeDestroyed(ApplicationScoped.class) Object context) {
        networkWatch.stop();
        images.close();
        // As the jar's stop: nothing the agent started outlives the deployment.
        dev.intervirt.agent.host.ProcessRunner.endAll(java.time.Duration.ofSeconds(5));
        firewall.close();
        if (hypervisor instanceof LibvirtHypervisor libvirt) {
            libvirt.close();
            // libvirt-java and its event loop thread belong to this deployment's class loader. Left
            // running after an undeploy, that thread would also deliver the next deployment's
            // events, with this (dead) deployment as context class loader: its CDI lookups fail.
            try {
                Library.stopEventLoop();
            } catch (LibvirtException e) {
                LOG.log(Level.WARNING, "cannot stop libvirt's event loop: " + e.getMessage(), e);
            }
        }
        LOG.info("intervirt agent stopped (containers keep running)");
    }

    private static boolean isRoot() {
        return new com.sun.security.auth.module.UnixSystem().getUid() == 0;
    }
}
