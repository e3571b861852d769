package dev.intervirt.agent.ssh;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The tools directory is made from the guest's sftp-server (openssh-sftp-server, which
 * ./intervirt prepare installs) and left as it is at the next start while nothing changed.
 */
class ComputerToolsTest {

    @TempDir
    Path state;

    @Test
    void aSecondStartKeepsTheCopiesAndAChangedSourceRefreshesThem() throws Exception {
        Path dir = ComputerTools.ensure(state);
        Path sftp = dir.resolve("sftp-server");
        assertTrue(Files.isExecutable(sftp), "sftp-server copied");
        assertTrue(Files.isRegularFile(dir.resolve("ld.so")), "its loader copied");
        assertTrue(ComputerTools.upToDate(dir));
        Object first = key(sftp);

        ComputerTools.ensure(state);
        assertEquals(first, key(sftp), "nothing copied again");

        // As after a package upgrade: the recorded size of a source no longer matches.
        Path manifest = dir.resolve(ComputerTools.MANIFEST);
        List<String> lines = Files.readAllLines(manifest);
        String[] f = lines.get(lines.size() - 1).split("\t");
        lines.set(lines.size() - 1, String.join("\t", f[0], "1", f[2], f[3]));
        Files.write(manifest, lines);
        assertFalse(ComputerTools.upToDate(dir));
        ComputerTools.ensure(state);
        assertNotEquals(first, key(sftp), "copied again");
        assertTrue(ComputerTools.upToDate(dir));

        Files.delete(dir.resolve("ld.so"));
        assertFalse(ComputerTools.upToDate(dir), "a copy missing in the directory");
    }

    private static Object key(Path p) throws Exception {
        return Files.readAttributes(p, BasicFileAttributes.class).fileKey();
    }
}
