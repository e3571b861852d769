package dev.intervirt.agent.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Latency samples in milliseconds with nearest-rank percentiles. */
final class Samples {

    private final List<Double> ms = new ArrayList<>();

    synchronized void add(double millis) {
        ms.add(millis);
    }

    /** Runs the action and records its wall time. */
    void time(Runnable action) {
        long t0 = System.nanoTime();
        action.run();
        add((System.nanoTime() - t0) / 1e6);
    }

    synchronized void forEach(java.util.function.DoubleConsumer each) {
        ms.forEach(each::accept);
    }

    synchronized int count() {
        return ms.size();
    }

    /** The latest sample. */
    synchronized double last() {
        return ms.get(ms.size() - 1);
    }

    double p50() {
        return percentile(0.50);
    }

    double p99() {
        return percentile(0.99);
    }

    synchronized double max() {
        return ms.stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN);
    }

    /** Nearest rank: the smallest sample with at least q of the samples at or below it. */
    synchronized double percentile(double q) {
        if (ms.isEmpty()) {
            return Double.NaN;
        }
        double[] s = ms.stream().mapToDouble(Double::doubleValue).toArray();
        Arrays.sort(s);
        int rank = (int) Math.ceil(q * s.length);
        return s[Math.max(0, Math.min(s.length - 1, rank - 1))];
    }
}
