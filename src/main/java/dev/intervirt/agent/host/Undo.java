package dev.intervirt.agent.host;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.logging.Logger;

/**
 * Compensating actions for a multi-step host change: run newest first on close unless the
 * change was committed, so a failure midway leaves nothing half-made.
 */
public final class Undo implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(Undo.class.getName());
    private final Deque<Runnable> steps = new ArrayDeque<>();
    private boolean committed;

    public void push(Runnable step) {
        steps.push(step);
    }

    public void commit() {
        committed = true;
    }

    @Override
    public void close() {
        if (committed) {
            return;
        }
        while (!steps.isEmpty()) {
            try {
                steps.pop().run();
            } catch (RuntimeException e) {
                // Best effort: the reconciler at the next start repairs what an undo could not.
                LOG.warning("undo step failed: " + e.getMessage());
            }
        }
    }
}
