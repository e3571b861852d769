package dev.intervirt.agent.state;

import dev.intervirt.agent.protocol.AgentException;
import dev.intervirt.agent.protocol.ErrorCode;
import dev.intervirt.agent.protocol.Json;

import java.io.IOException;
import java.io.StringReader;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.List;

/**
 * Keeps the topology durable in {@code <state-dir>/topology.json}: written to a temporary file,
 * flushed to disk, then renamed over the old one, so a crash leaves either the old or the new
 * state, never a torn one. A request is acknowledged only after its save returned.
 *
 * <p>Single changes (a link, a container's record, a forward: a switch of 100 computers is
 * 4,950 Connects) are appended to {@code topology.journal} instead, one line each
 * ({@link JournalEntry}), so their cost does not grow with the topology (a whole snapshot with
 * 4,950 links is ~170 KB and two flushes more). Loading applies the journal's complete lines to
 * the snapshot in order; a torn last line was never acknowledged and is ignored. Every snapshot
 * empties the journal; a full journal asks for a snapshot. Every entry sets a value rather than
 * changing one, so a crash between a snapshot and the emptying of the journal loses nothing.
 *
 * <p>A journal line is written before the reply; its flush to the disk comes right after, on
 * the {@link JournalFlusher}'s thread, unless the store is made to flush before the reply
 * ({@code --flush-before-reply}): the agent's crash loses nothing either way; in the first mode
 * a power cut within the few milliseconds before the flush can lose the last changes.
 */
public class StateStore implements AutoCloseable {

    private static final java.util.logging.Logger LOG = java.util.logging.Logger.getLogger(StateStore.class.getName());

    /** Journal lines before the next change asks for a snapshot instead. */
    static final int JOURNAL_LIMIT = 2000;

    private final Path file;
    private final Path temp;
    private final Path journal;
    private int journalLines;
    /** The journal file has content (perhaps only a torn line): the next snapshot empties it. */
    private boolean journalHasBytes;
    /**
     * Bytes of the journal that hold complete, replayed lines; -1 while unknown (not loaded).
     * The next append first cuts anything after them (a line torn by a crash), or it would
     * glue itself to that line and be lost, with every line after it, at the next load.
     */
    private long journalGoodBytes = -1;
    /** The journal file was there at the last load, append or snapshot (so its absence now means it was removed). */
    private boolean journalExists;
    /** Flushes appended lines behind the replies; null: each append flushes before it returns. */
    private final JournalFlusher flusher;

    /** A store whose journal lines reach the disk right after the reply ({@link JournalFlusher}). */
    public StateStore(Path stateDir) {
        this(stateDir, false);
    }

    /** {@code flushBeforeReply}: every append waits for its flush to the disk. */
    public StateStore(Path stateDir, boolean flushBeforeReply) {
        this.file = stateDir.resolve("topology.json");
        this.temp = stateDir.resolve("topology.json.tmp");
        this.journal = stateDir.resolve("topology.journal");
        this.flusher = flushBeforeReply ? null : new JournalFlusher(journal);
    }

    public Path file() {
        return file;
    }

    public StoredTopology load() {
        StoredTopology snapshot = StoredTopology.empty();
        if (Files.exists(file)) {
            snapshot = readSnapshot();
        }
        return withJournal(snapshot);
    }

    private StoredTopology readSnapshot() {
        StoredTopology snapshot;
        try {
            snapshot = Json.jsonb().fromJson(Files.readString(file), StoredTopology.class);
        } catch (IOException | RuntimeException e) {
            throw new AgentException(ErrorCode.GUEST, "Cannot read the stored topology " + file + ": " + e.getMessage(), e);
        }
        return snapshot;
    }

    /** The snapshot with the journal's complete entries applied in order. */
    private StoredTopology withJournal(StoredTopology snapshot) {
        journalExists = Files.exists(journal);
        if (!journalExists) {
            journalGoodBytes = 0;
            return snapshot;
        }
        String text;
        try {
            text = Files.readString(journal);
        } catch (IOException e) {
            throw new AgentException(ErrorCode.GUEST, "Cannot read the topology journal " + journal + ": " + e.getMessage(), e);
        }
        JournalEntry.Replay replay = new JournalEntry.Replay(snapshot);
        int end = text.lastIndexOf('\n');
        int applied = 0;
        long goodBytes = 0;
        List<String> lines = end < 0 ? List.of() : List.of(text.substring(0, end).split("\n"));
        for (String line : lines) {
            JournalEntry entry;
            try {
                entry = JournalEntry.parse(JournalEntry.JSON.createReader(new StringReader(line)).readObject());
            } catch (RuntimeException e) {
                break; // a damaged line: nothing after it was acknowledged either
            }
            entry.applyTo(replay);
            applied++;
            goodBytes += line.getBytes(StandardCharsets.UTF_8).length + 1;
        }
        journalLines = applied;
        journalHasBytes = !text.isEmpty();
        journalGoodBytes = goodBytes;
        return replay.result();
    }

    /**
     * Appends one change durably. Returns false, writing nothing, when the journal is full, or
     * when it lost lines acknowledged earlier (removed or cut underneath the agent): the caller
     * then saves a snapshot of the whole topology instead, which puts them back.
     */
    public boolean append(JournalEntry entry) {
        if (journalLines >= JOURNAL_LIMIT) {
            return false;
        }
        byte[] bytes = (entry.toJson() + "\n").getBytes(StandardCharsets.UTF_8);
        try (FileChannel ch = openJournal()) {
            if (ch == null) {
                return false;
            }
            long size = ch.size();
            if (journalGoodBytes >= 0 && size < journalGoodBytes) {
                LOG.warning("the topology journal " + journal + " lost lines underneath the agent; saving a snapshot");
                return false;
            }
            if (journalGoodBytes >= 0 && size > journalGoodBytes) {
                ch.truncate(journalGoodBytes);
                size = journalGoodBytes;
            }
            ByteBuffer buf = ByteBuffer.wrap(bytes);
            while (buf.hasRemaining()) {
                size += ch.write(buf, size);
            }
            if (flusher == null || !flusher.appended()) {
                ch.force(false);
            }
            if (journalGoodBytes >= 0) {
                journalGoodBytes += bytes.length;
            }
            journalLines++;
            journalHasBytes = true;
            journalExists = true;
            return true;
        } catch (IOException e) {
            throw new AgentException(ErrorCode.GUEST, "Cannot save the topology to " + journal + ": " + e.getMessage(), e);
        }
    }

    /**
     * The journal for writing; null when it should be there and is not (removed underneath:
     * a snapshot is due). Only a journal not made yet is created, so a removed one is noticed
     * instead of being silently replaced by an empty one.
     */
    private FileChannel openJournal() throws IOException {
        if (!journalExists) {
            Files.createDirectories(journal.getParent());
            return FileChannel.open(journal, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        }
        try {
            return FileChannel.open(journal, StandardOpenOption.WRITE);
        } catch (NoSuchFileException e) {
            LOG.warning("the topology journal " + journal + " was removed underneath the agent; saving a snapshot");
            return null;
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
                emptyJournal();
            }
        } catch (IOException e) {
            throw new AgentException(ErrorCode.GUEST, "Cannot save the topology to " + file + ": " + e.getMessage(), e);
        }
    }

    /** Waits until every line appended so far is on the disk. */
    public void awaitFlushed() throws InterruptedException {
        if (flusher != null) {
            flusher.awaitFlushed();
        }
    }

    /** Flushes the last appended lines and ends the flusher's thread (the agent's stop). */
    @Override
    public void close() {
        if (flusher != null) {
            flusher.close();
        }
    }

    /**
     * The snapshot is durable already, so a journal that cannot be emptied is no failure of
     * the save: replaying its lines over the snapshot gives the same links (the last change
     * of each link wins). Keep it and try again at the next snapshot.
     */
    private void emptyJournal() {
        try (FileChannel j = FileChannel.open(journal, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            j.force(true);
            journalExists = true;
            journalLines = 0;
            journalHasBytes = false;
            journalGoodBytes = 0;
        } catch (IOException e) {
            LOG.warning(
                    "cannot empty the topology journal " + journal + " (kept; replaying it is harmless): " + e.getMessage());
        }
    }
}
