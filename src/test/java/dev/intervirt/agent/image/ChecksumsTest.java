package dev.intervirt.agent.image;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

class ChecksumsTest {

    @Test
    void sha256OfAFileIsTheKnownDigest(@TempDir Path tmp) throws Exception {
        Path f = Files.writeString(tmp.resolve("abc"), "abc");
        assertEquals("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", Checksums.sha256(f));
    }

    @Test
    void aMatchingChecksumPassesInAnyCaseAMismatchIsRefusedWithBoth() {
        String good = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        Checksums.verify("x", good.toUpperCase(), good);
        var e = assertThrows(ImageSourceException.class, () -> Checksums.verify("image debian/trixie", good, "0".repeat(64)));
        assertTrue(e.getMessage().contains("corrupt") && e.getMessage().contains(good) && e.getMessage().contains("0".repeat(64)),
                e.getMessage());
    }
}
