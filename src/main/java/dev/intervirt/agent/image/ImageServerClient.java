package dev.intervirt.agent.image;

import dev.intervirt.agent.concurrent.DaemonThreads;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongConsumer;

/** HTTP access to one simplestreams server: its product list and its files. */
public class ImageServerClient {

    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);
    /** Index and product list are small; a tarball download has no overall limit (it may be slow), only a stall limit. */
    private static final Duration JSON_TIMEOUT = Duration.ofSeconds(60);

    /** A download that receives nothing for this long is given up. */
    static final Duration STALL_LIMIT = Duration.ofSeconds(60);
    private static final ScheduledExecutorService WATCHDOG =
            Executors.newSingleThreadScheduledExecutor(DaemonThreads.named("image-download-watchdog"));

    private final Duration stallLimit;
    private final String base;
    /** Made at the first request: building one loads the TLS trust store (seconds under emulation), needless while every image is in the store. */
    private HttpClient http;

    public ImageServerClient(String serverUrl) {
        this(serverUrl, STALL_LIMIT);
    }

    ImageServerClient(String serverUrl, Duration stallLimit) {
        this.stallLimit = stallLimit;
        this.base = serverUrl.endsWith("/") ? serverUrl : serverUrl + "/";
    }

    private synchronized HttpClient http() {
        if (http == null) {
            http = HttpClient.newBuilder().connectTimeout(CONNECT_TIMEOUT).followRedirects(HttpClient.Redirect.NORMAL).build();
        }
        return http;
    }

    public String server() {
        return base;
    }

    /** index.json, then the product list it points to. */
    public ImageCatalog catalog() {
        String indexPath = "streams/v1/index.json";
        String imagesPath = StreamIndex.imagesPath(text(indexPath));
        return ImageCatalog.parse(text(imagesPath));
    }

    String text(String path) {
        HttpRequest request = HttpRequest.newBuilder(uri(path)).timeout(JSON_TIMEOUT).GET().build();
        try {
            HttpResponse<String> r = http().send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
            if (r.statusCode() != 200) {
                throw new ImageSourceException("answered HTTP " + r.statusCode() + " for " + path);
            }
            return r.body();
        } catch (IOException e) {
            throw new ImageSourceException("unreachable (" + path + "): " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ImageSourceException("interrupted while fetching " + path, e);
        }
    }

    /**
     * Streams the file at {@code path} into {@code target}, reporting bytes so far, and returns
     * its SHA-256 (computed while downloading).
     */
    public String download(String path, Path target, LongConsumer progress) {
        // The timeout bounds the wait for the answer's headers; the body has the stall watchdog.
        HttpRequest request = HttpRequest.newBuilder(uri(path)).timeout(stallLimit).GET().build();
        try {
            HttpResponse<InputStream> r = http().send(request, HttpResponse.BodyHandlers.ofInputStream());
            try (InputStream in = r.body()) {
                if (r.statusCode() != 200) {
                    throw new ImageSourceException("answered HTTP " + r.statusCode() + " for " + path);
                }
                MessageDigest digest = Checksums.sha256();
                long total = 0;
                AtomicLong lastRead = new AtomicLong(System.nanoTime());
                AtomicBoolean stalled = new AtomicBoolean();
                // A server that stops sending would block the read (and the preparer) for ever.
                ScheduledFuture<?> watchdog = WATCHDOG.scheduleWithFixedDelay(() -> {
                    if (System.nanoTime() - lastRead.get() > stallLimit.toNanos() && stalled.compareAndSet(false, true)) {
                        try {
                            in.close();
                        } catch (IOException ignored) {
                            // the read fails either way
                        }
                    }
                }, 1, 1, TimeUnit.SECONDS);
                try (OutputStream out = Files.newOutputStream(target)) {
                    byte[] buf = new byte[1 << 16];
                    for (int n; (n = in.read(buf)) > 0; ) {
                        lastRead.set(System.nanoTime());
                        out.write(buf, 0, n);
                        digest.update(buf, 0, n);
                        total += n;
                        progress.accept(total);
                    }
                } catch (IOException e) {
                    if (stalled.get()) {
                        throw new ImageSourceException("download of " + path + " stalled: nothing received for "
                                + stallLimit.toSeconds() + " s", e);
                    }
                    throw e;
                } finally {
                    watchdog.cancel(false);
                }
                if (stalled.get()) {
                    throw new ImageSourceException("download of " + path + " stalled: nothing received for "
                            + stallLimit.toSeconds() + " s");
                }
                return Checksums.hex(digest);
            }
        } catch (IOException e) {
            throw new ImageSourceException("download of " + path + " failed: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ImageSourceException("interrupted while downloading " + path, e);
        }
    }

    private URI uri(String path) {
        return URI.create(base + path);
    }
}
