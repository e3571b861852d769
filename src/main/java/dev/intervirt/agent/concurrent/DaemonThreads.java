package dev.intervirt.agent.concurrent;

import java.util.concurrent.ThreadFactory;

/** Threads for the agent's own pools: daemons, so an idle pool never keeps the JVM alive, and named for thread dumps. */
public final class DaemonThreads {

    private DaemonThreads() {
    }

    /** A factory of daemon threads that all carry this name. */
    public static ThreadFactory named(String name) {
        return r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        };
    }
}
