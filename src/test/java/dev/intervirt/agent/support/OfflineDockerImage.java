package dev.intervirt.agent.support;

import com.jcraft.jsch.ChannelSftp;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A Docker image made here, for computers without a registry: {@code docker load} of a one-layer
 * archive whose root holds the test machine's static busybox as httpd, sh and nc.
 */
public final class OfflineDockerImage {

    public static final String IMAGE = "intervirt-test/busybox-httpd";

    private OfflineDockerImage() {
    }

    /** The {@code docker save} archive of {@value #IMAGE}:1. */
    public static byte[] archive() throws Exception {
        return imageArchive(busyboxRootfsTar());
    }

    /** A {@code docker save} archive of one layer: manifest.json, the image config and the layer. */
    private static byte[] imageArchive(byte[] layer) throws Exception {
        String diffId = "sha256:" + java.util.HexFormat.of().formatHex(
                java.security.MessageDigest.getInstance("SHA-256").digest(layer));
        byte[] config = ("{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Cmd\":[\"/bin/sh\"]},"
                + "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" + diffId + "\"]}}").getBytes(StandardCharsets.UTF_8);
        byte[] manifest = ("[{\"Config\":\"config.json\",\"RepoTags\":[\"" + IMAGE + ":1\"],\"Layers\":[\"layer/layer.tar\"]}]")
                .getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(out)) {
            TarArchiveEntry dir = new TarArchiveEntry("layer/");
            dir.setMode(040755);
            tar.putArchiveEntry(dir);
            tar.closeArchiveEntry();
            file(tar, "layer/layer.tar", layer, 0100644);
            file(tar, "config.json", config, 0100644);
            file(tar, "manifest.json", manifest, 0100644);
        }
        return out.toByteArray();
    }

    private static void file(TarArchiveOutputStream tar, String name, byte[] content, int mode) throws IOException {
        TarArchiveEntry e = new TarArchiveEntry(name);
        e.setMode(mode);
        e.setSize(content.length);
        tar.putArchiveEntry(e);
        tar.write(content);
        tar.closeArchiveEntry();
    }

    /** A root filesystem made here (no registry): the guest's static busybox as httpd, sh and nc. */
    private static byte[] busyboxRootfsTar() throws IOException {
        byte[] busybox = Files.readAllBytes(Path.of("/bin/busybox"));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(out)) {
            for (String dir : List.of("bin/", "www/", "tmp/")) {
                TarArchiveEntry d = new TarArchiveEntry(dir);
                d.setMode(040755);
                tar.putArchiveEntry(d);
                tar.closeArchiveEntry();
            }
            file(tar, "bin/busybox", busybox, 0100755);
            for (String applet : List.of("sh", "httpd", "nc")) {
                TarArchiveEntry link = new TarArchiveEntry("bin/" + applet, TarArchiveEntry.LF_SYMLINK);
                link.setLinkName("busybox");
                tar.putArchiveEntry(link);
                tar.closeArchiveEntry();
            }
        }
        return out.toByteArray();
    }

    /** Makes every missing directory of an absolute path over SFTP (as the client does for volumes). */
    public static void mkdirs(ChannelSftp sftp, String path) throws Exception {
        StringBuilder p = new StringBuilder();
        for (String part : path.substring(1).split("/")) {
            p.append('/').append(part);
            try {
                sftp.stat(p.toString());
            } catch (com.jcraft.jsch.SftpException e) {
                sftp.mkdir(p.toString());
            }
        }
    }

}
