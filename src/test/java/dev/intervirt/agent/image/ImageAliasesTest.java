package dev.intervirt.agent.image;

import dev.intervirt.agent.value.ImageName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** One alias table: the resource the agent loads is the one scripts/lib.sh resolves names with. */
class ImageAliasesTest {

    private static final Path LIB_SH = Path.of("scripts/lib.sh");

    @Test
    void theResourceHoldsTheDebianReleaseAliases() throws IOException {
        String table;
        try (InputStream in = ImageAliases.class.getResourceAsStream(ImageAliases.RESOURCE)) {
            assertNotNull(in, "aliases.properties beside ImageAliases on the class path");
            table = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        List<String> lines = table.lines().map(String::strip).toList();
        for (String alias : List.of("debian/13=trixie", "debian/12=bookworm", "debian/14=forky")) {
            assertTrue(lines.contains(alias), alias + " in " + table);
        }
    }

    @Test
    void theStoreResolvesAliasesFromTheResource() {
        assertEquals(ImageName.parse("debian/trixie"), ImageStore.canonical(ImageName.parse("debian/13")));
        assertEquals(ImageName.parse("debian/bookworm"), ImageStore.canonical(ImageName.parse("debian/12")));
        assertEquals(ImageName.parse("debian/forky"), ImageStore.canonical(ImageName.parse("debian/14")));
        assertEquals(ImageName.parse("debian/trixie"), ImageStore.canonical(ImageName.parse("debian/trixie")));
        assertEquals(ImageName.parse("fedora/13"), ImageStore.canonical(ImageName.parse("fedora/13")), "aliases are per distribution");
        assertEquals(ImageName.parse("debian/trixie"), ImageAliases.all().get(ImageName.parse("debian/13")));
    }

    @Test
    void libShResolvesEveryAliasAsTheStoreDoes() throws Exception {
        assertTrue(ImageAliases.all().size() >= 3, ImageAliases.all()::toString);
        for (Map.Entry<ImageName, ImageName> alias : ImageAliases.all().entrySet()) {
            assertEquals(alias.getValue().toString(), resolveImage(alias.getKey().toString(), null));
        }
        assertEquals("debian/trixie", resolveImage("debian/trixie", null));
        assertEquals("intervirtos/current", resolveImage("intervirtos/current", null));
    }

    @Test
    void libShReadsTheTableItDoesNotKnowTheAliasesItself(@TempDir Path dir) throws Exception {
        Path table = dir.resolve("aliases.properties");
        Files.writeString(table, "# a comment\n\ndebian/99 = sid\nalpine/9=edge\n");
        assertEquals("debian/sid", resolveImage("debian/99", table));
        assertEquals("alpine/edge", resolveImage("alpine/9", table));
        assertEquals("debian/13", resolveImage("debian/13", table), "not in this table: not an alias");
    }

    /** {@code resolve_image NAME} of scripts/lib.sh, with another alias table when {@code table} is given. */
    private static String resolveImage(String name, Path table) throws Exception {
        assertTrue(Files.isRegularFile(LIB_SH), "run from the project directory");
        String script = ". scripts/lib.sh && " + (table == null ? "" : "INTERVIRT_IMAGE_ALIASES=\"$2\" && ") + "resolve_image \"$1\"";
        Process p = new ProcessBuilder("bash", "-c", script, "resolve", name, table == null ? "" : table.toString())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertTrue(p.waitFor(10, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), () -> "resolve_image " + name + ": " + out);
        return out;
    }
}
