package dev.intervirt.agent.ssh;

import dev.intervirt.agent.host.ProcessRunner;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.logging.Logger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The read-only directory every computer mounts at {@value #MOUNT_POINT} (libvirt bind mount):
 * the guest's OpenSSH {@code sftp-server} with its own dynamic loader and libraries, so that
 * SFTP runs as a process INSIDE the computer (its mounts, its root: an absolute symlink resolves
 * in the computer, never in the guest) even on images without sshd or glibc. Built by the agent
 * at start from the guest's {@code openssh-sftp-server} package; nothing is written into images.
 */
public final class ComputerTools {

    /** Where computers see the tools (hidden, read-only). */
    public static final String MOUNT_POINT = "/.intervirt-agent";
    static final Path SFTP_SERVER = Path.of("/usr/lib/openssh/sftp-server");
    private static final Logger LOG = Logger.getLogger(ComputerTools.class.getName());
    private static final Pattern LIBRARY = Pattern.compile("=>\\s+(/\\S+)\\s+\\(");
    private static final Pattern LOADER = Pattern.compile("^\\s*(/\\S+)\\s+\\(");

    private ComputerTools() {
    }

    /** The tools directory of an agent with this state directory. */
    public static Path dir(Path stateDir) {
        return stateDir.resolve("computer-tools");
    }

    /**
     * Makes (or refreshes) the directory. It always exists afterwards, because libvirt refuses to
     * start a domain whose bind-mount source is missing; without sftp-server it stays empty and
     * SFTP answers that the guest lacks openssh-sftp-server.
     */
    public static Path ensure(Path stateDir) {
        Path dir = dir(stateDir);
        try {
            Files.createDirectories(dir.resolve("lib"));
            if (!Files.isExecutable(SFTP_SERVER)) {
                LOG.warning(SFTP_SERVER + " is missing (package openssh-sftp-server): computers get no SFTP");
                return dir;
            }
            if (upToDate(dir)) {
                return dir; // as the last start made it: no ldd (a shell and the loader, ~0.5 s under emulation)
            }
            ProcessRunner.Result ldd = ProcessRunner.exec(List.of("ldd", SFTP_SERVER.toString()), null, 10);
            if (!ldd.ok()) {
                LOG.warning("ldd " + SFTP_SERVER + " failed: " + ldd.stderr());
                return dir;
            }
            StringBuilder manifest = new StringBuilder();
            for (String line : ldd.stdout().split("\n")) {
                Matcher lib = LIBRARY.matcher(line);
                Matcher loader = LOADER.matcher(line);
                if (lib.find()) {
                    Path target = dir.resolve("lib").resolve(Path.of(lib.group(1)).getFileName());
                    copy(Path.of(lib.group(1)), target);
                    manifest.append(entry(Path.of(lib.group(1)), target));
                } else if (loader.find()) {
                    copy(Path.of(loader.group(1)), dir.resolve("ld.so"));
                    manifest.append(entry(Path.of(loader.group(1)), dir.resolve("ld.so")));
                }
            }
            copy(SFTP_SERVER, dir.resolve("sftp-server"));
            manifest.append(entry(SFTP_SERVER, dir.resolve("sftp-server")));
            Files.writeString(dir.resolve(MANIFEST), manifest.toString());
        } catch (IOException e) {
            LOG.warning("cannot prepare " + dir + ": " + e.getMessage());
        }
        return dir;
    }

    /** What the last refresh copied: one line per file, "source size mtime-ms target". */
    static final String MANIFEST = ".manifest";

    private static String entry(Path source, Path target) throws IOException {
        return source + "\t" + Files.size(source) + "\t" + Files.getLastModifiedTime(source).toMillis() + "\t" + target + "\n";
    }

    /**
     * Whether every file of the last refresh is still the same in the guest (size and time, as a
     * package upgrade changes them) and still in the directory.
     */
    static boolean upToDate(Path dir) {
        try {
            List<String> lines = Files.readAllLines(dir.resolve(MANIFEST));
            if (lines.isEmpty()) {
                return false;
            }
            for (String line : lines) {
                String[] f = line.split("\t");
                if (f.length != 4) {
                    return false;
                }
                Path source = Path.of(f[0]);
                if (Files.size(source) != Long.parseLong(f[1]) || Files.getLastModifiedTime(source).toMillis() != Long.parseLong(f[2])
                        || !Files.isRegularFile(Path.of(f[3]))) {
                    return false;
                }
            }
            return true;
        } catch (IOException | RuntimeException e) {
            return false; // no manifest (first start, older agent) or a source gone: refresh
        }
    }

    /** The argument list that starts sftp-server inside a computer (in its home directory). */
    static List<String> sftpServerCommand() {
        return List.of(MOUNT_POINT + "/ld.so", "--library-path", MOUNT_POINT + "/lib", MOUNT_POINT + "/sftp-server",
                "-d", "%d");
    }

    /** Copies through a temporary name and a rename: a computer using the old file keeps it whole. */
    private static void copy(Path from, Path to) throws IOException {
        Path tmp = to.resolveSibling("." + to.getFileName() + ".new");
        Files.copy(from.toRealPath(), tmp, StandardCopyOption.REPLACE_EXISTING);
        tmp.toFile().setExecutable(true, false);
        tmp.toFile().setReadable(true, false);
        Files.move(tmp, to, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
