package dev.intervirt.agent.state;

import dev.intervirt.agent.protocol.AgentException;
import dev.intervirt.agent.protocol.ErrorCode;
import dev.intervirt.agent.protocol.Json;

import jakarta.json.JsonObject;

import java.io.IOException;
import java.io.StringReader;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Keeps the topology durable in {@code <state-dir>/topology.json}: written to a temporary file,
 * flushed to disk, then renamed over the old one, so a crash leaves either the old or the new
 * state, never a torn one. A request is acknowledged only after its save returned.
 *
 * <p>Link changes, the frequent ones (a switch of 100 computers is 4,950 Connects), are
 * appended to {@code topology.journal} instead, one flushed line each, so their cost does not
 * grow with the topology (a whole snapshot with 4,950 links is ~170 KB). Loading applies the
 * journal's complete lines to the snapshot in order; a torn last line was never acknowledged
 * and is ignored. Every snapshot empties the journal; a full journal asks for a snapshot.
 * Replaying a link change is idempotent, so a crash between a snapshot and the emptying of
 * the journal loses nothing.
 */
public class StateStore {

    /** Journal lines before the next link change asks for a snapshot instead. */
    static final int JOURNAL_LIMIT = 2000;

    private final Path file;
    private final Path temp;
    private final Path journal;
    private int journalLines;
    /** The journal file has content (perhaps only a torn line): the next snapshot empties it. */
    private boolean journalHasBytes;

    public StateStore(Path stateDir) {
        this.file = stateDir.resolve("topology.json");
        this.temp = stateDir.resolve("topology.json.tmp");
        this.journal = stateDir.resolve("topology.journal");
    }

    public Path file() {
        return file;
    }

    public StoredTopology load() {
        if (!Files.exists(file)) {
            return StoredTopology.empty();
        }
        StoredTopology snapshot;
        try {
            snapshot = Json.jsonb().fromJson(Files.readString(file), StoredTopology.class);
        } catch (IOException | RuntimeException e) {
            throw new AgentException(ErrorCode.GUEST, "Cannot read the stored topology " + file + ": " + e.getMessage(), e);
        }
        return withJournal(snapshot);
    }

    /** The snapshot with the journal's complete lines applied in order. */
    private StoredTopology withJournal(StoredTopology snapshot) {
        if (!Files.exists(journal)) {
            return snapshot;
        }
        String text;
        try {
            text = Files.readString(journal);
        } catch (IOException e) {
            throw new AgentException(ErrorCode.GUEST, "Cannot read the topology journal " + journal + ": " + e.getMessage(), e);
        }
        Set<Link> links = new LinkedHashSet<>(snapshot.links() == null ? List.of() : snapshot.links());
        int end = text.lastIndexOf('\n');
        int applied = 0;
        List<String> lines = end < 0 ? List.of() : List.of(text.substring(0, end).split("\n"));
        for (String line : lines) {
            try {
                JsonObject o = jakarta.json.Json.createReader(new StringReader(line)).readObject();
                Link link = new Link(o.getString("a"), o.getString("b"));
                if (o.getString("op").equals("link")) {
                    links.add(link);
                } else {
                    links.remove(link);
                }
                applied++;
            } catch (RuntimeException e) {
                break; // a damaged line: nothing after it was acknowledged either
            }
        }
        journalLines = applied;
        journalHasBytes = !text.isEmpty();
        return new StoredTopology(snapshot.version(), snapshot.nextSlot(), snapshot.containers(), List.copyOf(links),
                snapshot.forwards());
    }

    /**
     * Appends one link change durably. Returns false, writing nothing, when the journal is full:
     * the caller then saves a snapshot instead.
     */
    public boolean appendLinkChange(Link link, boolean linked) {
        if (journalLines >= JOURNAL_LIMIT) {
            return false;
        }
        String line = jakarta.json.Json.createObjectBuilder().add("op", linked ? "link" : "unlink").add("a", link.a())
                .add("b", link.b()).build() + "\n";
        try {
            Files.createDirectories(journal.getParent());
            try (FileChannel ch = FileChannel.open(journal, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.APPEND)) {
                ByteBuffer buf = ByteBuffer.wrap(line.getBytes(StandardCharsets.UTF_8));
                while (buf.hasRemaining()) {
                    ch.write(buf);
                }
                ch.force(false);
            }
            journalLines++;
            return true;
        } catch (IOException e) {
            throw new AgentException(ErrorCode.GUEST, "Cannot save the topology to " + journal + ": " + e.getMessage(), e);
        }
    }

    public void save(StoredTopology topology) {
        byte[] bytes = TopologyJson.write(topology).getBytes(StandardCharsets.UTF_8);
        try {
            Files.createDirectories(file.getParent());
            try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING)) {
                ByteBuffer buf = ByteBuffer.wrap(bytes);
                while (buf.hasRemaining()) {
                    ch.write(buf);
                }
                ch.force(true);
            }
            Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            try (FileChannel dir = FileChannel.open(file.getParent(), StandardOpenOption.READ)) {
                dir.force(true);
            }
            // The snapshot holds every journaled change now (a crash before this line only
            // replays changes the snapshot already has).
            if (journalLines > 0 || journalHasBytes) {
                try (FileChannel j = FileChannel.open(journal, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                        StandardOpenOption.TRUNCATE_EXISTING)) {
                    j.force(true);
                }
                journalLines = 0;
                journalHasBytes = false;
            }
        } catch (IOException e) {
            throw new AgentException(ErrorCode.GUEST, "Cannot save the topology to " + file + ": " + e.getMessage(), e);
        }
    }
}
