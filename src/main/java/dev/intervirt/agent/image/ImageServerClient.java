package dev.intervirt.agent.image;

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
import java.util.function.LongConsumer;

/** HTTP access to one simplestreams server: its product list and its files. */
public class ImageServerClient {

    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);
    /** Index and product list are small; the tarball download has no overall limit (it may be slow), only a stall limit. */
    private static final Duration JSON_TIMEOUT = Duration.ofSeconds(60);

    private final String base;
    private final HttpClient http;

    public ImageServerClient(String serverUrl) {
        this.base = serverUrl.endsWith("/") ? serverUrl : serverUrl + "/";
        this.http = HttpClient.newBuilder().connectTimeout(CONNECT_TIMEOUT).followRedirects(HttpClient.Redirect.NORMAL).build();
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
            HttpResponse<String> r = http.send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
            if (r.statusCode() != 200) {
                throw new ImageSourceException("image server " + base + " answered HTTP " + r.statusCode() + " for " + path);
            }
            return r.body();
        } catch (IOException e) {
            throw new ImageSourceException("image server " + base + " unreachable (" + path + "): " + e, e);
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
        HttpRequest request = HttpRequest.newBuilder(uri(path)).GET().build();
        try {
            HttpResponse<InputStream> r = http.send(request, HttpResponse.BodyHandlers.ofInputStream());
            try (InputStream in = r.body()) {
                if (r.statusCode() != 200) {
                    throw new ImageSourceException("image server " + base + " answered HTTP " + r.statusCode() + " for " + path);
                }
                MessageDigest digest = Checksums.sha256();
                long total = 0;
                try (OutputStream out = Files.newOutputStream(target)) {
                    byte[] buf = new byte[1 << 16];
                    for (int n; (n = in.read(buf)) > 0; ) {
                        out.write(buf, 0, n);
                        digest.update(buf, 0, n);
                        total += n;
                        progress.accept(total);
                    }
                }
                return Checksums.hex(digest);
            }
        } catch (IOException e) {
            throw new ImageSourceException("download of " + base + path + " failed: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ImageSourceException("interrupted while downloading " + path, e);
        }
    }

    private URI uri(String path) {
        return URI.create(base + path);
    }
}
