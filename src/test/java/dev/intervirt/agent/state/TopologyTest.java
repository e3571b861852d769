package dev.intervirt.agent.state;

import dev.intervirt.agent.protocol.AgentException;
import dev.intervirt.agent.protocol.ErrorCode;
import dev.intervirt.agent.value.ImageName;
import dev.intervirt.agent.value.MacAddress;
import dev.intervirt.agent.value.Protocol;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static dev.intervirt.agent.support.TestAddresses.ipv4;
import static dev.intervirt.agent.support.TestAddresses.ipv6;
import static org.junit.jupiter.api.Assertions.*;

class TopologyTest {

    static final ImageName DEBIAN = new ImageName("debian", "13");
    static final String PREFIX = "ivc";

    @TempDir
    Path dir;
    Topology topology;

    @BeforeEach
    void setUp() {
        topology = new Topology(new StateStore(dir), PREFIX);
    }

    static MacAddress mac(String s) {
        return MacAddress.parseLoose(s);
    }

    /** Adds computer-n with addresses derived from n. */
    ContainerRecord add(int n) {
        return topology.addContainer("computer-" + n, mac("0a:00:00:00:00:" + Integer.toHexString(n)),
                ipv4("192.168.0." + n), ipv6("fd00::" + Integer.toHexString(n)), false, DEBIAN);
    }

    /** Adds computer-n for each n, in order. */
    void addComputers(int... ns) {
        for (int n : ns) {
            add(n);
        }
    }

    static AgentException agentFailure(ErrorCode code, Executable e) {
        AgentException ex = assertThrows(AgentException.class, e);
        assertEquals(code, ex.code(), ex.getMessage());
        return ex;
    }

    Topology reopen() {
        return new Topology(new StateStore(dir), PREFIX);
    }

    // ---- containers -------------------------------------------------------------------------

    @Test
    void emptyAtFirst() {
        assertEquals(List.of(), topology.containers());
        assertEquals(List.of(), topology.links());
        assertEquals(List.of(), topology.forwards());
        assertTrue(topology.find("computer-1").isEmpty());
    }

    @Test
    void addContainerStoresEveryValue() {
        ContainerRecord r = topology.addContainer("computer-93281", mac("a:5b:2:67:c:ff"), ipv4("192.168.7.12"),
                ipv6("fd3:a:1f::5"), true, DEBIAN);
        assertEquals("computer-93281", r.id());
        assertEquals(mac("0a:5b:02:67:0c:ff"), r.mac());
        assertEquals(ipv4("192.168.7.12"), r.ipv4());
        assertEquals(ipv6("fd3:a:1f::5"), r.ipv6());
        assertTrue(r.internet());
        assertEquals(DEBIAN, r.image());
        assertFalse(r.running(), "a new container is stopped");
        assertEquals(r, topology.get("computer-93281"));
        assertEquals(r, topology.find("computer-93281").orElseThrow());
        assertEquals(List.of(r), topology.containers());
        assertEquals(List.of(r), reopen().containers(), "saved before returning");
    }

    @Test
    void portsAreUniqueAndFitTheInterfaceLimit() {
        Set<String> ports = new HashSet<>();
        for (int i = 1; i <= 20; i++) {
            ContainerRecord r = add(i);
            assertTrue(ports.add(r.port()), "port reused: " + r.port());
            assertTrue(r.port().matches(PREFIX + "[0-9]+"), r.port());
            assertTrue(r.port().length() <= 15, r.port());
        }
    }

    @Test
    void portPrefixIsTheConfiguredOne() {
        Topology t = new Topology(new StateStore(dir.resolve("other")), "tst");
        ContainerRecord r = t.addContainer("computer-1", mac("a:0:0:0:0:1"), ipv4("10.0.0.1"), ipv6("fd00::1"), false, DEBIAN);
        assertTrue(r.port().matches("tst[0-9]+"), r.port());
    }

    @Test
    void portsAreNotReusedAfterRemoval() {
        ContainerRecord a = add(1);
        ContainerRecord b = add(2);
        topology.removeContainer("computer-2");
        ContainerRecord c = add(3);
        assertNotEquals(a.port(), c.port());
        assertNotEquals(b.port(), c.port());
    }

    @Test
    void duplicateIdIsAlreadyDone() {
        add(1);
        AgentException e = agentFailure(ErrorCode.ALREADY_DONE, () -> topology.addContainer("computer-1",
                mac("0a:00:00:00:00:99"), ipv4("10.9.9.9"), ipv6("fd99::9"), false, DEBIAN));
        assertEquals(3, e.code().wire());
        assertTrue(e.getMessage().contains("computer-1"), e.getMessage());
        assertEquals(1, topology.containers().size());
        assertEquals(ipv4("192.168.0.1"), topology.get("computer-1").ipv4(), "the original is untouched");
    }

    /** A MAC, IPv4 or IPv6 address computer-1 has: invalid, the message names the owner (and the taken MAC or IPv4 address). */
    @ParameterizedTest(name = "duplicate {0}")
    @CsvSource({
            "MAC, a:0:0:0:0:1, 10.9.9.9, fd99::9, 0a:00:00:00:00:01",
            "IPv4, 0a:00:00:00:00:99, 192.168.0.1, fd99::9, 192.168.0.1",
            "IPv6, 0a:00:00:00:00:99, 10.9.9.9, fd00:0:0::1, "})
    void duplicateAddressIsInvalidAndNamesTheOwner(String what, String macText, String ipv4Text, String ipv6Text, String alsoNamed) {
        add(1);
        AgentException e = agentFailure(ErrorCode.INVALID, () -> topology.addContainer("computer-2",
                mac(macText), ipv4(ipv4Text), ipv6(ipv6Text), false, DEBIAN));
        assertTrue(e.getMessage().contains("computer-1"), e.getMessage());
        if (alsoNamed != null) {
            assertTrue(e.getMessage().contains(alsoNamed), e.getMessage());
        }
        assertTrue(topology.find("computer-2").isEmpty());
    }

    @Test
    void failedAddLeavesNothingBehindOnDisk() {
        add(1);
        assertThrows(AgentException.class, () -> topology.addContainer("computer-2", mac("0a:00:00:00:00:01"),
                ipv4("10.9.9.9"), ipv6("fd99::9"), false, DEBIAN));
        assertEquals(List.of("computer-1"), reopen().containers().stream().map(ContainerRecord::id).toList());
    }

    @Test
    void requireFreeSkipsTheContainerItself() {
        add(1);
        add(2);
        topology.requireFree(ipv4("192.168.0.1"), "computer-1");
        topology.requireFree(ipv4("10.1.1.1"), null);
        AgentException e = agentFailure(ErrorCode.INVALID, () -> topology.requireFree(ipv4("192.168.0.1"), "computer-2"));
        assertTrue(e.getMessage().contains("computer-1"), e.getMessage());
        agentFailure(ErrorCode.INVALID, () -> topology.requireFree(ipv6("fd00::2"), "computer-1"));
    }

    @Test
    void getOfUnknownIsNotFound() {
        AgentException e = agentFailure(ErrorCode.NOT_FOUND, () -> topology.get("computer-404"));
        assertTrue(e.getMessage().contains("computer-404"), e.getMessage());
        assertTrue(e.getMessage().contains("doesn't exist"), e.getMessage());
    }

    @Test
    void updateReplacesAndSaves() {
        ContainerRecord r = add(1);
        ContainerRecord changed = r.withRunning(true).withInternet(true).withIpv4(ipv4("10.0.0.5")).withIpv6(ipv6("fd12::5"));
        topology.update(changed);
        assertEquals(changed, topology.get("computer-1"));
        assertEquals(r.port(), topology.get("computer-1").port());
        assertEquals(changed, reopen().get("computer-1"));
    }

    @Test
    void updateOfUnknownIsNotFound() {
        ContainerRecord ghost = new ContainerRecord("computer-9", "ivc9", mac("0a:00:00:00:00:09"), ipv4("10.0.0.9"),
                ipv6("fd00::9"), false, DEBIAN, false);
        agentFailure(ErrorCode.NOT_FOUND, () -> topology.update(ghost));
        assertTrue(topology.find("computer-9").isEmpty(), "update must not create");
    }

    @Test
    void removeContainer() {
        add(1);
        add(2);
        topology.removeContainer("computer-1");
        assertTrue(topology.find("computer-1").isEmpty());
        assertEquals(List.of("computer-2"), topology.containers().stream().map(ContainerRecord::id).toList());
        assertTrue(reopen().find("computer-1").isEmpty());
        // its addresses are free again
        add(1);
    }

    @Test
    void removeOfUnknownIsANoOp() {
        add(1);
        topology.removeContainer("computer-404");
        assertEquals(1, topology.containers().size());
    }

    @Test
    void containersKeepInsertionOrder() {
        add(3);
        add(1);
        add(2);
        assertEquals(List.of("computer-3", "computer-1", "computer-2"),
                topology.containers().stream().map(ContainerRecord::id).toList());
    }

    @Test
    void containersListIsASnapshot() {
        add(1);
        List<ContainerRecord> snapshot = topology.containers();
        add(2);
        assertEquals(1, snapshot.size());
        assertThrows(UnsupportedOperationException.class, () -> snapshot.add(snapshot.get(0)));
    }

    // ---- links ------------------------------------------------------------------------------

    @Test
    void linkIsUndirected() {
        assertEquals(new Link("a", "b"), new Link("b", "a"));
        Link l = new Link("computer-2", "computer-10");
        assertEquals("computer-10", l.a());
        assertEquals("computer-2", l.b());
        assertTrue(l.touches("computer-2"));
        assertTrue(l.touches("computer-10"));
        assertFalse(l.touches("computer-1"));
        assertEquals("computer-10", l.other("computer-2"));
        assertEquals("computer-2", l.other("computer-10"));
    }

    @Test
    void addAndRemoveLinks() {
        addComputers(1, 2, 3);
        topology.addLink(new Link("computer-2", "computer-1"));
        topology.addLink(new Link("computer-1", "computer-2"));
        topology.addLink(new Link("computer-3", "computer-1"));
        assertEquals(2, topology.links().size(), "the same cable twice is one link");
        assertTrue(topology.isLinked(new Link("computer-1", "computer-2")));
        assertTrue(topology.isLinked(new Link("computer-2", "computer-1")));
        assertFalse(topology.isLinked(new Link("computer-2", "computer-3")), "links are not transitive");
        assertEquals(List.of("computer-2", "computer-3"), topology.peersOf("computer-1").stream().map(ContainerRecord::id).toList());
        assertEquals(List.of("computer-1"), topology.peersOf("computer-2").stream().map(ContainerRecord::id).toList());
        topology.removeLink(new Link("computer-2", "computer-1"));
        assertFalse(topology.isLinked(new Link("computer-1", "computer-2")));
        assertEquals(List.of("computer-3"), topology.peersOf("computer-1").stream().map(ContainerRecord::id).toList());
        topology.removeLink(new Link("computer-2", "computer-1"));
        assertEquals(1, topology.links().size());
        assertEquals(List.of(new Link("computer-1", "computer-3")), reopen().links());
    }

    @Test
    void peersAreSortedById() {
        for (int i = 1; i <= 5; i++) {
            add(i);
        }
        topology.addLink(new Link("computer-3", "computer-5"));
        topology.addLink(new Link("computer-3", "computer-1"));
        topology.addLink(new Link("computer-4", "computer-3"));
        assertEquals(List.of("computer-1", "computer-4", "computer-5"),
                topology.peersOf("computer-3").stream().map(ContainerRecord::id).toList());
        assertEquals(List.of(), topology.peersOf("computer-2"));
    }

    // ---- forwards ---------------------------------------------------------------------------

    @Test
    void forwardsByProtocolAndPort() {
        add(1);
        add(2);
        PortForward tcp = new PortForward(Protocol.TCP, 8080, "computer-1", 80);
        PortForward udp = new PortForward(Protocol.UDP, 8080, "computer-2", 53);
        topology.addForward(tcp);
        topology.addForward(udp);
        assertEquals(tcp, topology.forward(Protocol.TCP, 8080).orElseThrow());
        assertEquals(udp, topology.forward(Protocol.UDP, 8080).orElseThrow());
        assertTrue(topology.forward(Protocol.TCP, 8081).isEmpty());
        assertEquals(List.of(tcp), topology.forwardsOf("computer-1"));
        assertEquals(List.of(udp), topology.forwardsOf("computer-2"));
        assertEquals(2, topology.forwards().size());
        assertEquals("8080/tcp", tcp.describe());
        assertEquals("8080/udp", udp.describe());

        topology.removeForward(Protocol.TCP, 8080);
        assertTrue(topology.forward(Protocol.TCP, 8080).isEmpty());
        assertEquals(udp, topology.forward(Protocol.UDP, 8080).orElseThrow());
        topology.removeForward(Protocol.TCP, 8080);
        assertEquals(List.of(udp), reopen().forwards());
    }

    @Test
    void addForwardReplacesTheSameGuestPort() {
        add(1);
        add(2);
        topology.addForward(new PortForward(Protocol.TCP, 2222, "computer-1", 22));
        topology.addForward(new PortForward(Protocol.TCP, 2222, "computer-2", 22));
        assertEquals(List.of(new PortForward(Protocol.TCP, 2222, "computer-2", 22)), topology.forwards());
    }

    @Test
    void removeContainerDropsItsLinksAndForwards() {
        addComputers(1, 2, 3);
        topology.addLink(new Link("computer-1", "computer-2"));
        topology.addLink(new Link("computer-2", "computer-3"));
        topology.addLink(new Link("computer-1", "computer-3"));
        topology.addForward(new PortForward(Protocol.TCP, 2201, "computer-2", 22));
        topology.addForward(new PortForward(Protocol.UDP, 5353, "computer-2", 53));
        topology.addForward(new PortForward(Protocol.TCP, 2203, "computer-3", 22));

        topology.removeContainer("computer-2");

        assertEquals(List.of(new Link("computer-1", "computer-3")), topology.links());
        assertEquals(List.of(new PortForward(Protocol.TCP, 2203, "computer-3", 22)), topology.forwards());
        assertEquals(List.of(), topology.peersOf("computer-2"));
        Topology again = reopen();
        assertEquals(List.of(new Link("computer-1", "computer-3")), again.links());
        assertEquals(List.of(new PortForward(Protocol.TCP, 2203, "computer-3", 22)), again.forwards());
    }

    // ---- persistence ------------------------------------------------------------------------

    @Test
    void persistenceRoundTrip() {
        ContainerRecord a = topology.addContainer("computer-93281", mac("a:5b:2:67:c:ff"), ipv4("192.168.7.12"),
                ipv6("fd3:a:1f::5"), false, DEBIAN);
        ContainerRecord b = topology.addContainer("computer-31222", mac("2a:5b:22:67:67:67"), ipv4("192.168.0.145"),
                ipv6("fd00:3452:2312:ab32:cdaa:4444:aaaa:bcda"), true, new ImageName("intervirtos", "current"));
        topology.update(b.withRunning(true));
        topology.addLink(new Link("computer-93281", "computer-31222"));
        topology.addForward(new PortForward(Protocol.TCP, 8080, "computer-93281", 80));
        topology.addForward(new PortForward(Protocol.UDP, 5353, "computer-31222", 53));

        Topology again = reopen();
        assertEquals(topology.containers(), again.containers());
        assertEquals(List.of(a, b.withRunning(true)), again.containers());
        assertEquals(topology.links(), again.links());
        assertEquals(Set.copyOf(topology.forwards()), Set.copyOf(again.forwards()));
        assertTrue(again.isLinked(new Link("computer-31222", "computer-93281")));

        // the port counter survives too: a new container gets a fresh port
        ContainerRecord c = again.addContainer("computer-3", mac("0a:00:00:00:00:03"), ipv4("10.0.0.3"), ipv6("fd00::3"),
                false, DEBIAN);
        assertNotEquals(a.port(), c.port());
        assertNotEquals(b.port(), c.port());
        // and uniqueness rules hold against the restored containers
        agentFailure(ErrorCode.INVALID, () -> again.addContainer("computer-4", mac("0a:5b:02:67:0c:ff"),
                ipv4("10.0.0.4"), ipv6("fd00::4"), false, DEBIAN));
        agentFailure(ErrorCode.ALREADY_DONE, () -> again.addContainer("computer-93281", mac("0a:00:00:00:00:05"),
                ipv4("10.0.0.5"), ipv6("fd00::5"), false, DEBIAN));
    }

    @Test
    void noTemporaryFileIsLeftBehind() {
        add(1);
        add(2);
        new StateStore(dir).save(topology.toStored());
        assertTrue(Files.exists(dir.resolve("topology.json")));
        assertFalse(Files.exists(dir.resolve("topology.json.tmp")));
    }

    // ---- a failing save undoes the in-memory change ----------------------------------------

    /**
     * Directories where the temporary file and the journal should go make every save fail (the
     * journal, which holds the changes made so far, is moved aside and back).
     */
    void breakSaving() throws Exception {
        Files.createDirectories(dir.resolve("topology.json.tmp"));
        if (Files.exists(dir.resolve("topology.journal"))) {
            Files.move(dir.resolve("topology.journal"), dir.resolve("journal.aside"));
        }
        Files.createDirectories(dir.resolve("topology.journal"));
    }

    void repairSaving() throws Exception {
        Files.delete(dir.resolve("topology.json.tmp"));
        Files.delete(dir.resolve("topology.journal"));
        if (Files.exists(dir.resolve("journal.aside"))) {
            Files.move(dir.resolve("journal.aside"), dir.resolve("topology.journal"));
        }
    }

    @Test
    void aJournalRemovedUnderneathIsHealedByASnapshot() throws Exception {
        add(1);
        add(2);
        Files.delete(dir.resolve("topology.journal"));
        topology.addLink(new Link("computer-1", "computer-2"));
        Topology again = reopen();
        assertEquals(List.of("computer-1", "computer-2"), again.containers().stream().map(ContainerRecord::id).toList());
        assertEquals(List.of(new Link("computer-1", "computer-2")), again.links());
    }

    @Test
    void aJournalCutUnderneathIsHealedByASnapshot() throws Exception {
        add(1);
        add(2);
        try (var ch = java.nio.channels.FileChannel.open(dir.resolve("topology.journal"), java.nio.file.StandardOpenOption.WRITE)) {
            ch.truncate(10);
        }
        add(3);
        assertEquals(List.of("computer-1", "computer-2", "computer-3"),
                reopen().containers().stream().map(ContainerRecord::id).toList());
    }

    @Test
    void failingSaveUndoesAdd() throws Exception {
        add(1);
        breakSaving();
        AgentException e = agentFailure(ErrorCode.GUEST, () -> add(2));
        assertTrue(e.getMessage().contains("topology"), e.getMessage());
        assertTrue(topology.find("computer-2").isEmpty());
        assertEquals(1, topology.containers().size());
        repairSaving();
        ContainerRecord r = add(2);
        assertTrue(topology.find("computer-2").isPresent());
        assertNotEquals(topology.get("computer-1").port(), r.port());
        assertEquals(2, reopen().containers().size());
    }

    @Test
    void failingSaveUndoesUpdate() throws Exception {
        ContainerRecord r = add(1);
        breakSaving();
        agentFailure(ErrorCode.GUEST, () -> topology.update(r.withRunning(true).withIpv4(ipv4("10.0.0.77"))));
        assertEquals(r, topology.get("computer-1"));
        // the old address is still the one that blocks others, the new one is free
        agentFailure(ErrorCode.INVALID, () -> topology.requireFree(ipv4("192.168.0.1"), null));
        topology.requireFree(ipv4("10.0.0.77"), null);
    }

    @Test
    void failingSaveUndoesRemoveWithLinksAndForwards() throws Exception {
        add(1);
        add(2);
        Link l = new Link("computer-1", "computer-2");
        PortForward f = new PortForward(Protocol.TCP, 8080, "computer-1", 80);
        topology.addLink(l);
        topology.addForward(f);
        breakSaving();
        agentFailure(ErrorCode.GUEST, () -> topology.removeContainer("computer-1"));
        assertTrue(topology.find("computer-1").isPresent());
        assertEquals(List.of(l), topology.links());
        assertEquals(List.of(f), topology.forwards());
        repairSaving();
        topology.removeContainer("computer-1");
        assertEquals(List.of(), reopen().links());
    }

    @Test
    void failingSaveUndoesLinkChanges() throws Exception {
        addComputers(1, 2, 3);
        Link l12 = new Link("computer-1", "computer-2");
        topology.addLink(l12);
        breakSaving();
        agentFailure(ErrorCode.GUEST, () -> topology.addLink(new Link("computer-1", "computer-3")));
        assertFalse(topology.isLinked(new Link("computer-1", "computer-3")));
        agentFailure(ErrorCode.GUEST, () -> topology.removeLink(l12));
        assertTrue(topology.isLinked(l12));
        // no change, so no save and no failure
        topology.addLink(l12);
        topology.removeLink(new Link("computer-2", "computer-3"));
        assertEquals(List.of(l12), topology.links());
    }

    @Test
    void failingSaveUndoesForwardChanges() throws Exception {
        add(1);
        add(2);
        PortForward f = new PortForward(Protocol.TCP, 8080, "computer-1", 80);
        topology.addForward(f);
        breakSaving();
        agentFailure(ErrorCode.GUEST, () -> topology.addForward(new PortForward(Protocol.UDP, 53, "computer-1", 53)));
        assertTrue(topology.forward(Protocol.UDP, 53).isEmpty());
        agentFailure(ErrorCode.GUEST, () -> topology.addForward(new PortForward(Protocol.TCP, 8080, "computer-2", 81)));
        assertEquals(f, topology.forward(Protocol.TCP, 8080).orElseThrow(), "a replaced forward comes back");
        agentFailure(ErrorCode.GUEST, () -> topology.removeForward(Protocol.TCP, 8080));
        assertEquals(f, topology.forward(Protocol.TCP, 8080).orElseThrow());
        topology.removeForward(Protocol.UDP, 9999);
    }

    @Test
    void stateDirThatIsAFileMakesSavesFail() throws Exception {
        Path file = dir.resolve("not-a-dir");
        Files.writeString(file, "x");
        Topology t = new Topology(new StateStore(file), PREFIX);
        agentFailure(ErrorCode.GUEST, () -> t.addContainer("computer-1", mac("0a:00:00:00:00:01"), ipv4("10.0.0.1"),
                ipv6("fd00::1"), false, DEBIAN));
        assertEquals(List.of(), t.containers());
    }
}
