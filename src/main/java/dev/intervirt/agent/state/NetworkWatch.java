package dev.intervirt.agent.state;

import dev.intervirt.agent.dispatch.RequestDispatcher;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import java.time.Duration;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Heals the agent's own network while it runs: every {@value #PERIOD_SECONDS} s it looks at the
 * bridge, the libvirt network and the ports (sysfs and one libvirt call, no process), every
 * {@value #DEEP_EVERY}th time also at the tables and host routes; when something is missing it
 * repairs it through {@link Reconciler#repairNetwork()} as one exclusive step of the dispatcher
 * (no request runs beside it). A client notices at most the request that met the broken network.
 */
@ApplicationScoped
public class NetworkWatch {

    private static final Logger LOG = Logger.getLogger(NetworkWatch.class.getName());
    static final int PERIOD_SECONDS = 2;
    static final int DEEP_EVERY = 5;
    private static final long CONFIRM_MILLIS = 300;

    @Inject
    Reconciler reconciler;
    @Inject
    RequestDispatcher dispatcher;

    private volatile Thread thread;

    public synchronized void start() {
        if (thread == null) {
            thread = new Thread(this::run, "network-watch");
            thread.setDaemon(true);
            thread.start();
        }
    }

    public synchronized void stop() {
        if (thread != null) {
            thread.interrupt();
            thread = null;
        }
    }

    private void run() {
        Thread self = Thread.currentThread();
        for (long tick = 1; thread == self; tick++) {
            try {
                Thread.sleep(Duration.ofSeconds(PERIOD_SECONDS).toMillis());
                checkOnce(tick % DEEP_EVERY == 0);
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                // libvirt down (its own watchdog reports it), a repair that failed: next time again.
                LOG.log(Level.FINE, "network watch", e);
            }
        }
    }

    /** One look, and a repair if needed. Returns whether a repair ran. */
    public boolean checkOnce(boolean deep) throws InterruptedException {
        String damage = reconciler.networkDamage(deep);
        if (damage == null) {
            return false;
        }
        // Looked at again before acting: a listing can fail while other tools change the kernel's
        // tables, and a repair is not for free (it replaces every element in one transaction).
        Thread.sleep(CONFIRM_MILLIS);
        damage = reconciler.networkDamage(deep);
        if (damage == null) {
            return false;
        }
        LOG.warning("the agent's network was changed underneath (" + damage + "); repairing it");
        try {
            dispatcher.runExclusive(reconciler::repairNetwork).get();
        } catch (java.util.concurrent.ExecutionException e) {
            LOG.log(Level.WARNING, "cannot repair the agent's network: " + e.getCause().getMessage(), e.getCause());
        }
        return true;
    }
}
