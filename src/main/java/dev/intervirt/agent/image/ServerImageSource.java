package dev.intervirt.agent.image;

import dev.intervirt.agent.value.ImageName;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.logging.Logger;

/**
 * Images from a simplestreams server: the newest {@code root.tar.xz} of the product, checked
 * against its published sha256, unpacked next to its final place and renamed into the store.
 */
public class ServerImageSource implements ImageSource {

    private static final Logger LOG = Logger.getLogger(ServerImageSource.class.getName());
    /** How long a product list answers "the server does not have it" without asking again. */
    private static final Duration CATALOG_TTL = Duration.ofMinutes(10);

    private final ImageServerClient client;
    private final ImageStore store;
    private final String arch;
    private volatile ImageCatalog catalog;
    private volatile Instant catalogAt = Instant.MIN;

    public ServerImageSource(ImageServerClient client, ImageStore store, String arch) {
        this.client = client;
        this.store = store;
        this.arch = arch;
    }

    @Override
    public String describe() {
        return "image server " + client.server();
    }

    @Override
    public boolean mayHave(ImageName name) {
        ImageCatalog c = freshCatalog();
        try {
            return c == null || c.find(name, arch).isPresent();
        } catch (ImageSourceException e) {
            return true; // a broken entry: the preparation says what is wrong with it
        }
    }

    private ImageCatalog freshCatalog() {
        return Instant.now().isBefore(catalogAt.plus(CATALOG_TTL)) ? catalog : null;
    }

    /** The release the server offers now (fetches the product list unless a fresh one is at hand). */
    public Optional<ImageRelease> lookup(ImageName name) {
        ImageCatalog c = freshCatalog();
        if (c == null) {
            c = client.catalog();
            catalog = c;
            catalogAt = Instant.now();
        }
        return c.find(name, arch);
    }

    @Override
    public boolean provide(ImageName name) {
        Optional<ImageRelease> found = lookup(name);
        if (found.isEmpty()) {
            LOG.info("image " + name + ": " + describe() + " does not have " + name.distribution() + ":" + name.release()
                    + ":" + arch + ":default");
            return false;
        }
        ImageRelease release = found.get();
        ImageName target = release.name();
        if (store.isReady(target)) {
            LOG.info("image " + name + ": already in the store as " + target);
            store.addAlias(name, target);
            return true;
        }
        Path tmp = store.temporaryDir(target, "download");
        try {
            Path tarball = tmp.resolve("root.tar.xz");
            LOG.info("image " + name + ": downloading " + release.product() + " " + release.version() + " from "
                    + client.server() + release.path() + (release.size() > 0 ? " (" + mib(release.size()) + " MiB)" : ""));
            String sha = client.download(release.path(), tarball, new DownloadProgress(name, release.size()));
            Checksums.verify("image " + name + " (" + release.path() + ")", release.sha256(), sha);
            LOG.info("image " + name + ": sha256 " + sha + " verified; unpacking");
            Path rootfs = tmp.resolve("rootfs");
            Files.createDirectory(rootfs);
            RootfsUnpacker.unpack(tarball, rootfs);
            Files.delete(tarball);
            DownloadedRootfs.adapt(rootfs);
            store.writeMetadata(tmp, ImageMetadata.downloaded(target, client.server(), release));
            store.install(target, tmp);
            store.addAlias(name, target);
            LOG.info("image " + name + ": ready as " + target + " (" + release.version() + ")");
            return true;
        } catch (IOException e) {
            throw new ImageSourceException("image " + name + ": " + e, e);
        } finally {
            store.deleteQuietly(tmp);
        }
    }

    static long mib(long bytes) {
        return bytes / (1024 * 1024);
    }
}
