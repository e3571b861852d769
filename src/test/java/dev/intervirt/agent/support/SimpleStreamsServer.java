package dev.intervirt.agent.support;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.intervirt.agent.host.ProcessRunner;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A simplestreams image server on 127.0.0.1 for tests: index.json, images.json and one tiny
 * root tarball per product, built by {@link #tinyRootfs}. Counts requests per path, can
 * corrupt a tarball (published checksum no longer matches) and hold tarball answers back
 * until {@link #release()}; {@code /stall} sends half a body and then nothing.
 */
public final class SimpleStreamsServer implements AutoCloseable {

    /** A product: {@code dist:release:amd64:default} with its aliases and the tarball served for it. */
    public record Product(String distribution, String release, String aliases, byte[] tarball, String sha256) {
        String key() {
            return distribution + ":" + release + ":amd64:default";
        }

        String path() {
            return "images/" + distribution + "/" + release + "/amd64/default/20251124_05:24/rootfs.tar.xz";
        }
    }

    private final HttpServer http;
    private final Map<String, Product> products = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> requests = new ConcurrentHashMap<>();
    private final Map<String, Boolean> corrupt = new ConcurrentHashMap<>();
    private volatile CountDownLatch hold = new CountDownLatch(0);
    private final CountDownLatch stallRelease = new CountDownLatch(1);

    public SimpleStreamsServer() throws IOException {
        http = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 16);
        http.setExecutor(java.util.concurrent.Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "test-image-server");
            t.setDaemon(true);
            return t;
        }));
        http.createContext("/", this::handle);
        http.start();
    }

    public String url() {
        return "http://127.0.0.1:" + http.getAddress().getPort() + "/";
    }

    public void add(String distribution, String release, String aliases, byte[] tarball) {
        Product p = new Product(distribution, release, aliases, tarball, sha256(tarball));
        products.put(p.key(), p);
    }

    /** From now on the tarball of this product is served with its last byte changed. */
    public void corrupt(String distribution, String release) {
        corrupt.put(distribution + ":" + release + ":amd64:default", true);
    }

    /** Tarball requests wait until {@link #release()} (at most 60 s). */
    public void holdTarballs() {
        hold = new CountDownLatch(1);
    }

    public void release() {
        hold.countDown();
    }

    public int requests(String pathSuffix) {
        return requests.entrySet().stream().filter(e -> e.getKey().endsWith(pathSuffix))
                .mapToInt(e -> e.getValue().get()).sum();
    }

    public int tarballRequests(String distribution, String release) {
        return requests("/images/" + distribution + "/" + release + "/amd64/default/20251124_05:24/rootfs.tar.xz");
    }

    private void handle(HttpExchange ex) throws IOException {
        String path = ex.getRequestURI().getPath();
        requests.computeIfAbsent(path, p -> new AtomicInteger()).incrementAndGet();
        try (ex) {
            if (path.equals("/streams/v1/index.json")) {
                send(ex, 200, index().getBytes());
                return;
            }
            if (path.equals("/streams/v1/images.json")) {
                send(ex, 200, images().getBytes());
                return;
            }
            for (Product p : products.values()) {
                if (path.equals("/" + p.path())) {
                    try {
                        hold.await(60, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    byte[] body = p.tarball().clone();
                    if (corrupt.containsKey(p.key())) {
                        body[body.length - 1] ^= 0x55;
                    }
                    send(ex, 200, body);
                    return;
                }
            }
            if (path.equals("/stall")) {
                // Headers and half the body, then silence (until release or 60 s).
                ex.sendResponseHeaders(200, 1000);
                ex.getResponseBody().write(new byte[500]);
                ex.getResponseBody().flush();
                try {
                    stallRelease.await(60, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return;
            }
            send(ex, 404, "not found".getBytes());
        }
    }

    private static void send(HttpExchange ex, int status, byte[] body) throws IOException {
        ex.sendResponseHeaders(status, body.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(body);
        }
    }

    private String index() {
        String keys = String.join(",", products.keySet().stream().map(k -> "\"" + k + "\"").toList());
        return """
                {"format":"index:1.0","index":{"images":{"datatype":"image-downloads","format":"products:1.0",
                 "path":"streams/v1/images.json","products":[%s]}}}""".formatted(keys);
    }

    private String images() {
        StringBuilder b = new StringBuilder("{\"content_id\":\"images\",\"datatype\":\"image-downloads\",\"format\":\"products:1.0\",\"products\":{");
        String sep = "";
        for (Product p : products.values()) {
            b.append(sep).append('"').append(p.key()).append("\":{\"aliases\":\"").append(p.aliases())
                    .append("\",\"arch\":\"amd64\",\"os\":\"").append(p.distribution()).append("\",\"release\":\"")
                    .append(p.release()).append("\",\"variant\":\"default\",\"versions\":{")
                    // an older build first: the client must pick the newest
                    .append("\"20251101_05:24\":{\"items\":{\"root.tar.xz\":{\"ftype\":\"root.tar.xz\",\"path\":\"images/old.tar.xz\",\"sha256\":\"")
                    .append("0".repeat(64)).append("\",\"size\":1}}},")
                    .append("\"20251124_05:24\":{\"items\":{\"root.tar.xz\":{\"ftype\":\"root.tar.xz\",\"path\":\"")
                    .append(p.path()).append("\",\"sha256\":\"").append(p.sha256()).append("\",\"size\":")
                    .append(p.tarball().length).append("}}}}}");
            sep = ",";
        }
        return b.append("}}").toString();
    }

    /**
     * A tiny root filesystem as a tar.xz: an executable {@code /sbin/init}, {@code /etc/os-release}
     * naming {@code id}, LXC's placeholder {@code /etc/hostname}, and {@code /home/user/file} owned by uid:gid 1234:2345 (numeric owners
     * must survive the unpack).
     */
    public static byte[] tinyRootfs(Path work, String id) throws IOException {
        Path root = work.resolve("rootfs-" + id);
        Files.createDirectories(root.resolve("sbin"));
        Files.createDirectories(root.resolve("etc"));
        Files.createDirectories(root.resolve("home/user"));
        Path init = Files.writeString(root.resolve("sbin/init"), "#!/bin/sh\nexec sleep infinity\n");
        init.toFile().setExecutable(true, false);
        Files.writeString(root.resolve("etc/os-release"), "ID=" + id + "\n");
        Files.writeString(root.resolve("etc/hostname"), "LXC_NAME\n"); // as in LXC's tarballs
        Files.writeString(root.resolve("home/user/file"), "owned by 1234\n");
        ProcessRunner.run(List.of("chown", "-R", "1234:2345", root.resolve("home/user").toString()));
        Path tarball = work.resolve(id + ".tar.xz");
        ProcessRunner.run(List.of("tar", "--create", "--xz", "--numeric-owner", "--file=" + tarball, "--directory=" + root, "."));
        return Files.readAllBytes(tarball);
    }

    static String sha256(byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        release();
        stallRelease.countDown();
        http.stop(0);
    }
}
