package dev.intervirt.agent.image;

import dev.intervirt.agent.concurrent.DaemonThreads;
import dev.intervirt.agent.value.ImageName;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Fetches or builds images on one background thread, so that no request ever waits on a
 * download: the sources are asked in order (image server, local builder) until one delivers.
 * Remembers what is queued or running and, for a while, why an image could not be had.
 */
public class ImagePreparer implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(ImagePreparer.class.getName());
    /** A failed image is not tried again for this long (requests get the reason meanwhile). */
    static final Duration RETRY_AFTER = Duration.ofSeconds(60);

    /** Why an image could not be had, and when that was found out. */
    public record Failure(String reason, Instant at) {
    }

    private final List<ImageSource> sources;
    private final ExecutorService worker = Executors.newSingleThreadExecutor(DaemonThreads.named("image-prepare"));
    private final Map<ImageName, Boolean> pending = new ConcurrentHashMap<>();
    private final Map<ImageName, Failure> failures = new ConcurrentHashMap<>();

    public ImagePreparer(List<ImageSource> sources) {
        this.sources = List.copyOf(sources);
    }

    public boolean hasSources() {
        return !sources.isEmpty();
    }

    /** Whether some source may have the image (without waiting on the network). */
    public boolean mayHave(ImageName name) {
        return sources.stream().anyMatch(s -> s.mayHave(name));
    }

    public boolean isPreparing(ImageName name) {
        return pending.containsKey(name);
    }

    /** Why the image could not be had, if that was found out less than {@link #RETRY_AFTER} ago. */
    public Failure recentFailure(ImageName name) {
        Failure f = failures.get(name);
        return f != null && Instant.now().isBefore(f.at().plus(RETRY_AFTER)) ? f : null;
    }

    /** Queues the image unless it is queued already; returns at once. */
    public void request(ImageName name, java.util.function.BooleanSupplier ready) {
        if (pending.putIfAbsent(name, Boolean.TRUE) != null) {
            return;
        }
        try {
            worker.execute(() -> {
                try {
                    if (!ready.getAsBoolean()) {
                        prepare(name);
                    }
                } finally {
                    pending.remove(name);
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException e) {
            pending.remove(name);
        }
    }

    private void prepare(ImageName name) {
        long t0 = System.nanoTime();
        List<String> reasons = new ArrayList<>();
        for (ImageSource source : sources) {
            if (!source.mayHave(name)) {
                continue;
            }
            try {
                if (source.provide(name)) {
                    failures.remove(name);
                    LOG.info(String.format("image %s: ready from %s in %.1f s", name, source.describe(),
                            (System.nanoTime() - t0) / 1e9));
                    return;
                }
                reasons.add(source.describe() + " does not have it");
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "image " + name + ": " + source.describe() + " failed: " + e.getMessage());
                LOG.log(Level.FINE, "image " + name, e);
                reasons.add(source.describe() + " failed: " + e.getMessage());
            }
        }
        String reason = reasons.isEmpty() ? "no image source has it" : String.join("; ", reasons);
        failures.put(name, new Failure(reason, Instant.now()));
        LOG.warning("image " + name + ": not available: " + reason);
    }

    @Override
    public void close() {
        worker.shutdownNow();
    }
}
