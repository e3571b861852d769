package dev.intervirt.agent.image;

import dev.intervirt.agent.value.ImageName;

import java.util.function.LongConsumer;
import java.util.logging.Logger;

/** One log line per 10 % of a download (per 50 MiB when the size is unknown). */
final class DownloadProgress implements LongConsumer {

    private static final Logger LOG = Logger.getLogger(DownloadProgress.class.getName());
    private static final long UNKNOWN_STEP = 50L << 20;

    private final ImageName name;
    private final long size;
    private long nextReport;

    DownloadProgress(ImageName name, long size) {
        this.name = name;
        this.size = size;
        this.nextReport = size > 0 ? size / 10 : UNKNOWN_STEP;
    }

    @Override
    public void accept(long bytes) {
        if (bytes < nextReport) {
            return;
        }
        if (size > 0) {
            LOG.info(String.format("image %s: downloaded %d%% (%d of %d MiB)", name, Math.min(100, bytes * 100 / size),
                    ServerImageSource.mib(bytes), ServerImageSource.mib(size)));
            nextReport += Math.max(1, size / 10);
        } else {
            LOG.info(String.format("image %s: downloaded %d MiB", name, ServerImageSource.mib(bytes)));
            nextReport += UNKNOWN_STEP;
        }
    }
}
