package dev.intervirt.agent.dispatch;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Wall time of each step of one operation, logged at FINE (--debug): where the time goes. A lap
 * only notes the time; the text is made when it is logged, so a request without --debug pays
 * a clock read per step.
 */
public final class StepTimer {

    private final String what;
    private final List<String> steps = new ArrayList<>(4);
    private final List<Long> ends = new ArrayList<>(4);
    private final long start = System.nanoTime();

    public StepTimer(String what) {
        this.what = what;
    }

    public void lap(String step) {
        ends.add(System.nanoTime());
        steps.add(step);
    }

    public void log(Logger log) {
        if (log.isLoggable(Level.FINE)) {
            StringBuilder laps = new StringBuilder();
            long last = start;
            for (int i = 0; i < steps.size(); i++) {
                laps.append(String.format(Locale.ROOT, " %s %.2f", steps.get(i), (ends.get(i) - last) / 1e6));
                last = ends.get(i);
            }
            log.fine(String.format(Locale.ROOT, "%s: total %.2f ms:%s", what, (System.nanoTime() - start) / 1e6, laps));
        }
    }
}
