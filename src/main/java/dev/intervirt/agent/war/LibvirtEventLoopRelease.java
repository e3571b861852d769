package dev.intervirt.agent.war;

import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.context.BeforeDestroyed;
import jakarta.enterprise.event.Observes;
import org.libvirt.Library;
import org.libvirt.LibvirtException;

import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The WAR's one addition to the agent's lifecycle: libvirt-java and its event-loop thread belong
 * to this deployment's class loader. Left running after an undeploy, that thread would also
 * deliver the next deployment's events with this (dead) deployment as its context class loader,
 * and their CDI lookups fail. Runs after the agent's own stop (a later priority).
 */
@ApplicationScoped
public class LibvirtEventLoopRelease {

    private static final Logger LOG = Logger.getLogger(LibvirtEventLoopRelease.class.getName());

    void release(@Observes @Priority(jakarta.interceptor.Interceptor.Priority.LIBRARY_AFTER) @BeforeDestroyed(ApplicationScoped.class) Object context) {
        try {
            Library.stopEventLoop();
        } catch (LibvirtException e) {
            LOG.log(Level.WARNING, "cannot stop libvirt's event loop: " + e.getMessage(), e);
        }
    }
}
