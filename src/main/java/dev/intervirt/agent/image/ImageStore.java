package dev.intervirt.agent.image;

import dev.intervirt.agent.host.ProcessRunner;
import dev.intervirt.agent.protocol.AgentException;
import dev.intervirt.agent.value.ImageName;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Logger;

/**
 * The local image store: {@code <image-dir>/<distribution>/<release>/rootfs} (plus
 * {@code image.json}), with the release aliases the image server uses ({@code debian/13} is
 * {@code debian/trixie}; the table is {@link ImageAliases}, shared with the scripts). An image missing here is prepared in the background from the
 * configured sources; requests never wait for it.
 */
public class ImageStore implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(ImageStore.class.getName());
    /** Temporary directories of downloads older than this were left by a killed agent. */
    private static final Duration STALE_DOWNLOAD = Duration.ofHours(3);

    private final Path imageDir;
    private final ImagePreparer preparer;

    /** A store without sources: only what is on disk. */
    public ImageStore(Path imageDir) {
        this(imageDir, ImageSettings.localOnly());
    }

    public ImageStore(Path imageDir, ImageSettings settings) {
        this.imageDir = imageDir;
        List<ImageSource> sources = new ArrayList<>();
        if (!settings.server().isBlank()) {
            sources.add(new ServerImageSource(new ImageServerClient(settings.server()), this, ImageCatalog.hostArch()));
        }
        if (!settings.builder().isEmpty()) {
            sources.add(new BuilderImageSource(settings.builder(), this));
        }
        this.preparer = new ImagePreparer(sources);
    }

    public Path imageDir() {
        return imageDir;
    }

    /** The name the store files the image under ({@code debian/13} → {@code debian/trixie}). */
    public static ImageName canonical(ImageName name) {
        return ImageAliases.canonical(name);
    }

    public Path rootfsPath(ImageName name) {
        return releaseDir(canonical(name)).resolve("rootfs");
    }

    private Path releaseDir(ImageName c) {
        return imageDir.resolve(c.distribution()).resolve(c.release());
    }

    /** Whether the image is complete in the store (its init exists). */
    public boolean isReady(ImageName name) {
        Path init = rootfsPath(name).resolve("sbin/init");
        return Files.isExecutable(init) || Files.isSymbolicLink(init);
    }

    public boolean isPreparing(ImageName name) {
        return preparer.isPreparing(canonical(name));
    }

    /**
     * The image's rootfs. When it is not here: code 6 at once, saying it is being prepared (and
     * starting that when a source may have it), or why it cannot be had.
     */
    public Path resolve(ImageName name) {
        Path rootfs = rootfsPath(name);
        if (isReady(name)) {
            return rootfs;
        }
        ImageName key = canonical(name);
        if (preparer.isPreparing(key)) {
            throw preparing(name);
        }
        ImagePreparer.Failure failure = preparer.recentFailure(key);
        if (failure != null) {
            throw AgentException.notFound("Image " + name + " is not available on this guest: " + failure.reason()
                    + ". (Tried " + Duration.between(failure.at(), Instant.now()).toSeconds()
                    + " s ago; asking again after a minute starts another attempt.)");
        }
        if (preparer.mayHave(key)) {
            preparer.request(key, () -> isReady(key));
            throw preparing(name);
        }
        throw AgentException.notFound("Image " + name + " is not available on this guest (looked in " + rootfs
                + (preparer.hasSources() ? " and the image sources" : "") + "). Build it with: ./intervirt image " + name);
    }

    private static AgentException preparing(ImageName name) {
        return AgentException.notFound("Image " + name + " is being prepared (downloaded or built in the background); "
                + "try again in a moment.");
    }

    /** Starts fetching or building every listed image that is not in the store (returns at once). */
    public void prefetch(List<ImageName> names) {
        removeStaleDownloads();
        for (ImageName name : names) {
            if (isReady(name)) {
                LOG.info("image " + name + ": in the store");
            } else if (preparer.mayHave(canonical(name))) {
                LOG.info("image " + name + ": queued for background preparation");
                preparer.request(canonical(name), () -> isReady(name));
            } else {
                LOG.warning("image " + name + ": not in the store and no image source for it");
            }
        }
    }

    // --- used by the sources -------------------------------------------------------------------

    /** A fresh directory beside the image's final place (same filesystem: the final rename is atomic). */
    Path temporaryDir(ImageName target, String kind) {
        try {
            Path parent = Files.createDirectories(releaseDir(target).getParent());
            return Files.createTempDirectory(parent, "." + target.release() + "." + kind + ".",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    void writeMetadata(Path dir, String json) throws IOException {
        Files.writeString(dir.resolve("image.json"), json, StandardCharsets.UTF_8);
    }

    /** Renames a complete temporary directory into place. */
    void install(ImageName target, Path tmp) throws IOException {
        Path dest = releaseDir(target);
        if (Files.exists(dest, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            if (isReady(target)) {
                return; // another agent or builder finished first; the caller deletes tmp
            }
            LOG.info("image " + target + ": removing the incomplete " + dest);
            deleteQuietly(dest);
        }
        try {
            Files.move(tmp, dest, StandardCopyOption.ATOMIC_MOVE);
        } catch (FileAlreadyExistsException | java.nio.file.DirectoryNotEmptyException e) {
            if (!isReady(target)) {
                throw e;
            }
        }
    }

    /** Makes {@code alias} (same distribution, another release name) lead to {@code target}. */
    void addAlias(ImageName alias, ImageName target) {
        ImageName a = canonical(alias);
        if (a.equals(target) || !a.distribution().equals(target.distribution())) {
            return;
        }
        Path link = releaseDir(a);
        if (Files.exists(link, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try {
            Files.createSymbolicLink(link, Path.of(target.release()));
            LOG.info("image " + alias + ": alias of " + target);
        } catch (IOException e) {
            LOG.warning("image " + alias + ": could not record it as an alias of " + target + ": " + e);
        }
    }

    /** Removes a tree without following links or crossing into other filesystems. */
    void deleteQuietly(Path dir) {
        if (!Files.exists(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        // Also when the preparer is being stopped (interrupted): never leave a half download behind.
        boolean interrupted = Thread.interrupted();
        try {
            ProcessRunner.exec(List.of("rm", "-rf", "--one-file-system", "--", dir.toString()), null, 600);
        } catch (RuntimeException e) {
            LOG.warning("image store: could not remove " + dir + ": " + e.getMessage());
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void removeStaleDownloads() {
        if (!Files.isDirectory(imageDir)) {
            return;
        }
        Instant limit = Instant.now().minus(STALE_DOWNLOAD);
        try (var dists = Files.newDirectoryStream(imageDir)) {
            for (Path dist : dists) {
                if (!Files.isDirectory(dist, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                    continue;
                }
                try (var entries = Files.newDirectoryStream(dist, ".*.download.*")) {
                    for (Path e : entries) {
                        if (Files.getLastModifiedTime(e, java.nio.file.LinkOption.NOFOLLOW_LINKS).toInstant().isBefore(limit)) {
                            LOG.info("image store: removing the interrupted download " + e);
                            deleteQuietly(e);
                        }
                    }
                }
            }
        } catch (IOException e) {
            LOG.warning("image store: could not look for interrupted downloads: " + e);
        }
    }

    @Override
    public void close() {
        preparer.close();
    }
}
