package dev.intervirt.agent.dispatch;

import java.util.Locale;
import java.util.logging.Level;
import java.util.logging.Logger;

/** Wall time of each step of one operation, logged at FINE (--debug): where the time goes. */
public final class StepTimer {

    private final String what;
    private final StringBuilder laps = new StringBuilder();
    private final long start = System.nanoTime();
    private long last = start;

    public StepTimer(String what) {
        this.what = what;
    }

    public void lap(String step) {
        long now = System.nanoTime();
        laps.append(String.format(Locale.ROOT, " %s %.1f", step, (now - last) / 1e6));
        last = now;
    }

    public void log(Logger log) {
        if (log.isLoggable(Level.FINE)) {
            log.fine(String.format(Locale.ROOT, "%s: total %.1f ms:%s", what, (System.nanoTime() - start) / 1e6, laps));
        }
    }
}
