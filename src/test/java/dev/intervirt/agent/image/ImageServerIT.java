package dev.intervirt.agent.image;

import dev.intervirt.agent.protocol.AgentException;
import dev.intervirt.agent.support.AgentClient;
import dev.intervirt.agent.support.AgentClient.Exchange;
import dev.intervirt.agent.support.SimpleStreamsServer;
import dev.intervirt.agent.support.TestAgent;
import dev.intervirt.agent.value.ImageName;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;

import static dev.intervirt.agent.support.AgentClient.request;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The simplestreams client against a local server this test starts (never an outside address):
 * download, checksum, unpack, cache, aliases; and a real agent answering AddContainer at once
 * (code 6) while the image is still on its way.
 */
class ImageServerIT {

    static SimpleStreamsServer server;
    @TempDir
    static Path work;

    @BeforeAll
    static void startServer() throws Exception {
        server = new SimpleStreamsServer();
        server.add("debian", "trixie", "debian/trixie/default,debian/trixie,debian/13/default,debian/13",
                SimpleStreamsServer.tinyRootfs(work, "debian"));
        server.add("testos", "1.0", "testos/1.0/default,testos/1.0,testos/current/default,testos/current",
                SimpleStreamsServer.tinyRootfs(work, "testos"));
        server.add("broken", "1", "broken/1", SimpleStreamsServer.tinyRootfs(work, "broken"));
        server.corrupt("broken", "1");
    }

    @AfterAll
    static void stopServer() {
        server.close();
    }

    private static ImageStore store(Path dir) {
        return new ImageStore(dir, new ImageSettings(server.url(), List.of(), List.of()));
    }

    private static ImageName n(String s) {
        return ImageName.parse(s);
    }

    /** Asks until the preparation is over (the first answer is code 6 "being prepared"). */
    /** The first request starts preparing the image (code 6, as for any image not ready yet); once that ends, the image is still refused. */
    static AgentException refusedOncePrepared(ImageStore store, String image) throws Exception {
        assertEquals(6, assertThrows(AgentException.class, () -> store.resolve(n(image))).code().wire());
        awaitPrepared(store, n(image));
        return assertThrows(AgentException.class, () -> store.resolve(n(image)));
    }

    private static void awaitPrepared(ImageStore store, ImageName name) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (store.isPreparing(name) && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertFalse(store.isPreparing(name), "prepared within 60 s");
    }

    private static List<String> leftovers(Path dir) throws Exception {
        try (Stream<Path> s = Files.walk(dir, 2)) {
            return s.map(p -> dir.relativize(p).toString()).filter(p -> p.matches(".*/\\..*")).toList();
        }
    }

    @Test
    void downloadsChecksUnpacksAndCaches(@TempDir Path images) throws Exception {
        int before = server.tarballRequests("debian", "trixie");
        try (ImageStore store = store(images)) {
            AgentException first = assertThrows(AgentException.class, () -> store.resolve(n("debian/13")));
            assertEquals(6, first.code().wire());
            assertTrue(first.getMessage().contains("debian/13") && first.getMessage().contains("being prepared"),
                    first.getMessage());
            awaitPrepared(store, n("debian/13"));
            Path rootfs = store.resolve(n("debian/13"));
            assertEquals(images.resolve("debian/trixie/rootfs"), rootfs, "stored under the canonical name");
            assertEquals("ID=debian\n", Files.readString(rootfs.resolve("etc/os-release")));
            assertTrue(Files.isExecutable(rootfs.resolve("sbin/init")));
            assertFalse(Files.exists(rootfs.resolve("etc/hostname")), "LXC's placeholder hostname is removed");
            assertEquals(1234, Files.getAttribute(rootfs.resolve("home/user/file"), "unix:uid"), "numeric owner kept");
            assertEquals(2345, Files.getAttribute(rootfs.resolve("home/user/file"), "unix:gid"));
            String meta = Files.readString(images.resolve("debian/trixie/image.json"));
            assertTrue(meta.contains("\"version\":\"20251124_05:24\""), meta);
            assertTrue(meta.contains("\"product\":\"debian:trixie:amd64:default\""), meta);
            assertTrue(meta.contains("\"sha256\":\""), meta);
            assertEquals(List.of(), leftovers(images), "no temporary directory or tarball left");
            assertFalse(Files.exists(images.resolve("debian/trixie/root.tar.xz")));
        }
        assertEquals(before + 1, server.tarballRequests("debian", "trixie"), "downloaded once");

        int catalogRequests = server.requests("/streams/v1/images.json");
        try (ImageStore again = store(images)) {
            assertEquals(images.resolve("debian/trixie/rootfs"), again.resolve(n("debian/trixie")), "ready at once from the store");
            again.prefetch(List.of(n("debian/trixie"), n("debian/13")));
            assertFalse(again.isPreparing(n("debian/trixie")));
        }
        assertEquals(before + 1, server.tarballRequests("debian", "trixie"), "a second request does not download again");
        assertEquals(catalogRequests, server.requests("/streams/v1/images.json"), "nor even ask the server");
    }

    @Test
    void anAliasOfTheServerLeadsToTheProductAndIsRemembered(@TempDir Path images) throws Exception {
        try (ImageStore store = store(images)) {
            store.prefetch(List.of(n("testos/current")));
            awaitPrepared(store, n("testos/current"));
            Path rootfs = store.resolve(n("testos/current"));
            assertEquals("ID=testos\n", Files.readString(rootfs.resolve("etc/os-release")));
            assertTrue(Files.isDirectory(images.resolve("testos/1.0/rootfs")), "stored under the product's release");
            assertEquals(Path.of("1.0"), Files.readSymbolicLink(images.resolve("testos/current")));
        }
        try (ImageStore fresh = new ImageStore(images)) {
            assertTrue(fresh.isReady(n("testos/current")), "the alias survives without the server");
            assertTrue(fresh.isReady(n("testos/1.0")));
        }
    }

    @Test
    void aCorruptDownloadIsRefusedAndNothingIsLeftInTheStore(@TempDir Path images) throws Exception {
        try (ImageStore store = store(images)) {
            AgentException e = refusedOncePrepared(store, "broken/1");
            assertEquals(6, e.code().wire());
            assertTrue(e.getMessage().contains("broken/1") && e.getMessage().contains("corrupt")
                    && e.getMessage().contains("sha256"), e.getMessage());
            assertFalse(store.isReady(n("broken/1")));
            assertFalse(Files.exists(images.resolve("broken/1")));
            assertEquals(List.of(), leftovers(images), "the corrupt download was deleted");
            assertFalse(store.isPreparing(n("broken/1")), "not retried at once: the reason is answered meanwhile");
        }
        assertEquals(1, server.tarballRequests("broken", "1"));
    }

    @Test
    void anImageNoSourceHasIsCode6WithTheServerAsked(@TempDir Path images) throws Exception {
        try (ImageStore store = store(images)) {
            AgentException e = refusedOncePrepared(store, "nosuch/1");
            assertTrue(e.getMessage().contains("nosuch/1") && e.getMessage().contains("does not have it"), e.getMessage());
            // The product list is now known: another unknown image is answered without a new attempt.
            AgentException other = assertThrows(AgentException.class, () -> store.resolve(n("nosuch/2")));
            assertTrue(other.getMessage().contains("not available"), other.getMessage());
            assertFalse(store.isPreparing(n("nosuch/2")));
        }
        assertTrue(Files.notExists(images.resolve("nosuch")));
    }

    @Test
    void whatTheServerDoesNotHaveTheLocalBuilderMakes(@TempDir Path images) throws Exception {
        // A stand-in for scripts/build-image.sh: same arguments, environment and layout.
        Path builder = work.resolve("fake-build-image.sh");
        Files.writeString(builder, """
                #!/bin/sh
                set -e
                echo "building $1 in $INTERVIRT_IMAGE_DIR" >&2
                tmp=$(mktemp -d "$INTERVIRT_IMAGE_DIR/.build.XXXXXX")
                mkdir -p "$tmp/rootfs/sbin" "$(dirname "$INTERVIRT_IMAGE_DIR/$1")"
                printf '#!/bin/sh\n' > "$tmp/rootfs/sbin/init"; chmod 755 "$tmp/rootfs/sbin/init"
                echo '{"builder":"fake"}' > "$tmp/image.json"
                mv -T "$tmp" "$INTERVIRT_IMAGE_DIR/$1"
                """);
        builder.toFile().setExecutable(true);
        Files.createDirectories(images);
        int catalogRequests = server.requests("/streams/v1/images.json");
        try (ImageStore store = new ImageStore(images, new ImageSettings(server.url(), List.of(), List.of(builder.toString())))) {
            store.prefetch(List.of(n("debian/bookworm")));
            awaitPrepared(store, n("debian/bookworm"));
            assertTrue(store.isReady(n("debian/12")), "built by the builder, found through the alias");
            assertEquals("{\"builder\":\"fake\"}\n", Files.readString(images.resolve("debian/bookworm/image.json")));
            assertEquals(catalogRequests + 1, server.requests("/streams/v1/images.json"), "the server was asked first");
            // A name no builder makes and the server lacks: known at once from the product list.
            AgentException e = assertThrows(AgentException.class, () -> store.resolve(n("fedora/43")));
            assertTrue(e.getMessage().contains("not available"), e.getMessage());
        }
    }

    @Test
    void aDownloadThatStallsIsGivenUp(@TempDir Path dir) {
        ImageServerClient client = new ImageServerClient(server.url(), Duration.ofSeconds(2));
        long t0 = System.nanoTime();
        ImageSourceException e = assertThrows(ImageSourceException.class,
                () -> client.download("stall", dir.resolve("x"), bytes -> { }));
        assertTrue(e.getMessage().contains("stalled"), e.getMessage());
        long seconds = (System.nanoTime() - t0) / 1_000_000_000L;
        assertTrue(seconds < 10, "given up after about 2 s, not " + seconds + " s");
    }

    @Test
    void addContainerWhileTheImageIsPreparedIsAnsweredAtOnceWithCode6() throws Exception {
        String dist = "ivimgtest";
        server.add(dist, "slow", dist + "/slow", SimpleStreamsServer.tinyRootfs(work, "slow"));
        Path storeDir = TestAgent.IMAGE_DIR.resolve(dist);
        deleteTree(storeDir);
        server.holdTarballs();
        try (TestAgent agent = TestAgent.start(c -> c.withImages(new ImageSettings(server.url(), List.of(), List.of())));
             AgentClient client = agent.client()) {
            java.util.function.Supplier<jakarta.json.JsonObjectBuilder> add = () -> request("AddContainer").add("id", "img-slow")
                    .add("ipv4", "10.9.0.2").add("ipv6", "fd09::2").add("mac", "02:00:00:09:00:02").add("internet", false)
                    .add("image", dist + "/slow");
            for (int i = 0; i < 3; i++) {
                Exchange e = client.call(add.get());
                assertEquals(6, e.code(), e::toString);
                assertTrue(e.error().contains(dist + "/slow") && e.error().contains("being prepared"), e::toString);
                assertTrue(e.millis() < 2000, "answered at once, not after the download: " + e.millis() + " ms");
            }
            assertEquals(6, client.call(request("StartContainer").add("id", "img-slow")).code(), "nothing was created");
            server.release();
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            Exchange done;
            do {
                Thread.sleep(100);
                done = client.call(add.get());
            } while (done.code() == 6 && System.nanoTime() < deadline);
            assertTrue(done.ok(), "once the image is ready the same request succeeds: " + done);
            assertTrue(client.call(request("RemoveContainer").add("id", "img-slow")).ok());
        } finally {
            server.release();
            deleteTree(storeDir);
        }
    }

    private static void deleteTree(Path dir) {
        dev.intervirt.agent.host.ProcessRunner.run(List.of("rm", "-rf", "--one-file-system", "--", dir.toString()));
    }
}
