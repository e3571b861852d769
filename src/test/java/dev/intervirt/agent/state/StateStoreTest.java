package dev.intervirt.agent.state;

import dev.intervirt.agent.protocol.AgentException;
import dev.intervirt.agent.protocol.ErrorCode;
import dev.intervirt.agent.state.StoredTopology.StoredContainer;
import dev.intervirt.agent.state.StoredTopology.StoredForward;
import dev.intervirt.agent.support.TestAddresses;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class StateStoreTest {

    @TempDir
    Path dir;

    static StoredTopology sample() {
        return new StoredTopology(StoredTopology.CURRENT_VERSION, 4,
                List.of(new StoredContainer("computer-1", "ivc1", "0a:00:00:00:00:01", "192.168.0.1", "fd00:0:0:0:0:0:0:1",
                                false, "debian/13", true),
                        new StoredContainer("computer-2", "ivc3", "0a:00:00:00:00:02", "192.168.0.2", "fd00:0:0:0:0:0:0:2",
                                true, "debian/trixie", false)),
                List.of(new Link("computer-1", "computer-2")),
                List.of(new StoredForward("tcp", 8080, "computer-1", 80)));
    }

    /** Stores computer-1 alone, on {@code port} with {@code ipv4}, as an earlier agent may have left it. */
    void storeComputer1Alone(int nextSlot, String port, String ipv4) {
        new StateStore(dir).save(new StoredTopology(StoredTopology.CURRENT_VERSION, nextSlot,
                List.of(new StoredContainer("computer-1", port, "0a:00:00:00:00:01", ipv4, "fd00::1", false, "debian/13", false)),
                List.of(), List.of()));
    }

    @Test
    void missingFileIsEmpty() {
        StoredTopology t = new StateStore(dir).load();
        assertEquals(StoredTopology.empty(), t);
        assertEquals(List.of(), t.containers());
        assertEquals(1, t.nextSlot());
    }

    @Test
    void saveAndLoad() {
        StateStore store = new StateStore(dir);
        store.save(sample());
        assertEquals(dir.resolve("topology.json"), store.file());
        assertEquals(sample(), new StateStore(dir).load());
    }

    @Test
    void theWrittenDocumentIsWhatJsonBWritesAndReads() throws Exception {
        StateStore store = new StateStore(dir);
        store.save(sample());
        String written = Files.readString(store.file());
        jakarta.json.JsonObject mine = jakarta.json.Json.createReader(new java.io.StringReader(written)).readObject();
        jakarta.json.JsonObject jsonb = jakarta.json.Json.createReader(new java.io.StringReader(
                dev.intervirt.agent.protocol.Json.jsonb().toJson(sample()))).readObject();
        assertEquals(jsonb, mine, "same fields and values as JSON-B");
        assertEquals(sample(), dev.intervirt.agent.protocol.Json.jsonb().fromJson(written, StoredTopology.class));
    }

    @Test
    void linkChangesAreJournaledAndReplayedOnLoad() throws Exception {
        StateStore store = new StateStore(dir);
        store.save(sample());
        Link extra = new Link("computer-2", "computer-3");
        assertTrue(store.append(new JournalEntry.LinkChange(extra, true)));
        assertTrue(store.append(new JournalEntry.LinkChange(new Link("computer-1", "computer-2"), false)));
        assertTrue(store.append(new JournalEntry.LinkChange(new Link("computer-1", "computer-4"), true)));
        assertTrue(store.append(new JournalEntry.LinkChange(new Link("computer-1", "computer-4"), false)));
        String snapshot = Files.readString(store.file());
        assertFalse(snapshot.contains("computer-3"), "link changes do not rewrite the snapshot");
        assertEquals(List.of(extra), new StateStore(dir).load().links());
        // a torn last line (a crash during the append) was never acknowledged: ignored
        Files.writeString(dir.resolve("topology.journal"), "{\"op\":\"unlink\",\"a\":\"comp", java.nio.file.StandardOpenOption.APPEND);
        StateStore restarted = new StateStore(dir);
        assertEquals(List.of(extra), restarted.load().links());
        // the next change after the restart is not glued to the torn line (and lost at the next load)
        Link later = new Link("computer-1", "computer-5");
        assertTrue(restarted.append(new JournalEntry.LinkChange(later, true)));
        assertEquals(List.of(extra, later), new StateStore(dir).load().links());
    }

    @Test
    void aSnapshotEmptiesTheJournalAndAFullJournalAsksForOne() throws Exception {
        StateStore store = new StateStore(dir);
        store.save(sample());
        for (int i = 0; i < StateStore.JOURNAL_LIMIT; i++) {
            assertTrue(store.append(new JournalEntry.LinkChange(new Link("computer-1", "computer-2"), i % 2 == 1)));
        }
        assertFalse(store.append(new JournalEntry.LinkChange(new Link("computer-1", "computer-2"), false)), "full: a snapshot is due");
        store.save(sample());
        assertEquals(0, Files.size(dir.resolve("topology.journal")));
        assertTrue(store.append(new JournalEntry.LinkChange(new Link("computer-1", "computer-2"), false)));
        assertEquals(List.of(), new StateStore(dir).load().links());
    }

    @Test
    void containerAndForwardChangesAreJournaledToo() throws Exception {
        StateStore store = new StateStore(dir);
        store.save(sample());
        String snapshot = Files.readString(store.file());
        StoredContainer moved = new StoredContainer("computer-2", "ivc3", "0a:00:00:00:00:02", "192.168.0.9",
                "fd00:0:0:0:0:0:0:2", false, "debian/trixie", true);
        StoredContainer added = new StoredContainer("computer-5", "ivc4", "0a:00:00:00:00:05", "192.168.0.5",
                "fd00:0:0:0:0:0:0:5", true, "debian/13", false);
        assertTrue(store.append(new JournalEntry.ContainerPut(moved, 4)));
        assertTrue(store.append(new JournalEntry.ContainerPut(added, 5)));
        assertTrue(store.append(new JournalEntry.LinkChange(new Link("computer-5", "computer-2"), true)));
        assertTrue(store.append(new JournalEntry.ForwardPut(new StoredForward("udp", 53, "computer-5", 53))));
        assertTrue(store.append(new JournalEntry.ForwardRemoved("tcp", 8080)));
        assertTrue(store.append(new JournalEntry.ContainersRemoved(List.of("computer-1"))));
        assertEquals(snapshot, Files.readString(store.file()), "single changes do not rewrite the snapshot");

        StoredTopology expected = new StoredTopology(StoredTopology.CURRENT_VERSION, 5, List.of(moved, added),
                List.of(new Link("computer-2", "computer-5")), List.of(new StoredForward("udp", 53, "computer-5", 53)));
        assertEquals(expected, new StateStore(dir).load());
        // The journal replayed over a snapshot that already holds it (a crash before the journal
        // was emptied) gives the same topology: every entry sets a value.
        Files.copy(dir.resolve("topology.journal"), dir.resolve("kept"));
        store.save(expected);
        Files.copy(dir.resolve("kept"), dir.resolve("topology.journal"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        assertEquals(expected, new StateStore(dir).load());
    }

    @Test
    void aRemovedContainerTakesItsLinksAndForwardsAndMayComeBack() {
        StateStore store = new StateStore(dir);
        store.save(sample());
        StoredContainer again = new StoredContainer("computer-1", "ivc7", "0a:00:00:00:00:07", "192.168.0.7",
                "fd00:0:0:0:0:0:0:7", false, "debian/13", false);
        assertTrue(store.append(new JournalEntry.ContainersRemoved(List.of("computer-1"))));
        assertTrue(store.append(new JournalEntry.ContainerPut(again, 8)));
        StoredTopology t = new StateStore(dir).load();
        assertEquals(List.of("computer-2", "computer-1"), t.containers().stream().map(StoredContainer::id).toList());
        assertEquals(again, t.containers().get(1));
        assertEquals(List.of(), t.links(), "the old links went with the old container");
        assertEquals(List.of(), t.forwards());
        assertEquals(8, t.nextSlot());
    }

    @Test
    void anUnknownEntryEndsTheReplayLikeADamagedLine() throws Exception {
        StateStore store = new StateStore(dir);
        store.save(sample());
        assertTrue(store.append(new JournalEntry.LinkChange(new Link("computer-1", "computer-2"), false)));
        Files.writeString(dir.resolve("topology.journal"), "{\"op\":\"teleport\",\"a\":\"x\"}\n"
                + "{\"op\":\"link\",\"a\":\"computer-1\",\"b\":\"computer-2\"}\n", java.nio.file.StandardOpenOption.APPEND);
        assertEquals(List.of(), new StateStore(dir).load().links());
    }

    @Test
    void aDocumentWithoutListsHoldsEmptyOnes() throws Exception {
        Files.writeString(dir.resolve("topology.json"), "{\"version\":1,\"nextSlot\":3}");
        StoredTopology t = new StateStore(dir).load();
        assertEquals(List.of(), t.containers());
        assertEquals(List.of(), t.links());
        assertEquals(List.of(), t.forwards());
        assertEquals(0, new Topology(new StateStore(dir), "ivc").containers().size());
    }

    @Test
    void saveCreatesTheDirectory() {
        Path nested = dir.resolve("a/b/c");
        new StateStore(nested).save(sample());
        assertTrue(Files.isRegularFile(nested.resolve("topology.json")));
        assertEquals(sample(), new StateStore(nested).load());
    }

    @Test
    void saveReplacesTheWholeFile() {
        StateStore store = new StateStore(dir);
        store.save(sample());
        store.save(StoredTopology.empty());
        assertEquals(StoredTopology.empty(), store.load());
        assertFalse(Files.exists(dir.resolve("topology.json.tmp")));
    }

    @Test
    void corruptFileIsAGuestError() throws Exception {
        Files.writeString(dir.resolve("topology.json"), "{ not json");
        AgentException e = assertThrows(AgentException.class, () -> new StateStore(dir).load());
        assertEquals(ErrorCode.GUEST, e.code());
        assertTrue(e.getMessage().contains("topology.json"), e.getMessage());
    }

    @Test
    void failedSaveKeepsTheOldFile() throws Exception {
        StateStore store = new StateStore(dir);
        store.save(sample());
        String before = Files.readString(store.file());
        Files.createDirectories(dir.resolve("topology.json.tmp"));
        AgentException e = assertThrows(AgentException.class, () -> store.save(StoredTopology.empty()));
        assertEquals(ErrorCode.GUEST, e.code());
        assertEquals(before, Files.readString(store.file()));
        assertEquals(sample(), store.load());
    }

    @Test
    void topologyIgnoresDanglingLinksAndForwards() {
        StoredTopology withDangling = new StoredTopology(StoredTopology.CURRENT_VERSION, 2,
                List.of(new StoredContainer("computer-1", "ivc1", "0a:00:00:00:00:01", "192.168.0.1", "fd00::1", false,
                        "debian/13", false)),
                List.of(new Link("computer-1", "computer-gone")),
                List.of(new StoredForward("tcp", 8080, "computer-gone", 80), new StoredForward("icmp", 1, "computer-1", 1),
                        new StoredForward("udp", 53, "computer-1", 53)));
        new StateStore(dir).save(withDangling);
        Topology t = new Topology(new StateStore(dir), "ivc");
        assertEquals(1, t.containers().size());
        assertEquals(List.of(), t.links());
        assertEquals(1, t.forwards().size());
        assertEquals("computer-1", t.forwards().get(0).containerId());
    }

    @Test
    void topologyRefusesAnInvalidStoredContainer() {
        storeComputer1Alone(2, "ivc1", "127.0.0.1");
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> new Topology(new StateStore(dir), "ivc"));
        assertTrue(e.getMessage().contains("computer-1"), e.getMessage());
    }

    @Test
    void newPortNumbersAreAboveEveryStoredOne() {
        storeComputer1Alone(1, "ivc7", "192.168.0.1");
        Topology t = new Topology(new StateStore(dir), "ivc");
        ContainerRecord r = t.addContainer("computer-2", dev.intervirt.agent.value.MacAddress.parseLoose("a:0:0:0:0:2"),
                TestAddresses.ipv4("192.168.0.2"), TestAddresses.ipv6("fd00::2"), false, TopologyTest.DEBIAN);
        assertTrue(r.port().matches("ivc[0-9]+"), r.port());
        assertTrue(Integer.parseInt(r.port().substring(3)) > 7, r.port());
    }
}
