package dev.intervirt.agent.host.netlink;

import dev.intervirt.agent.host.ProcessRunner;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * nf_tables set-element transactions over nfnetlink against the real kernel, in a namespace of
 * the test's own, each checked with {@code nft list set} from outside: additions and deletions
 * in sets of both families and of the key types the firewall uses, a transaction applied whole
 * or not at all, the kernel's refusals as clear errors, and no descriptor or thread left behind
 * by 10,000 transactions.
 */
class NfTablesIT {

    private TestNamespace ns;
    private NetlinkSocket socket;

    @BeforeEach
    void setUp() {
        ns = new TestNamespace();
        nft("add table bridge t\n"
                + "add set bridge t links { type ifname . ifname; }\n"
                + "add set bridge t port_macs { type ifname . ether_addr; }\n"
                + "add table inet t\n"
                + "add set inet t internet4 { type ipv4_addr; }\n"
                + "add set inet t internet6 { type ipv6_addr; }\n");
        socket = Namespaces.inside(ns.file(), NetlinkSocket::openNetfilter);
    }

    @AfterEach
    void tearDown() throws InterruptedException {
        socket.close();
        ns.close();
    }

    @Test
    void elementsAreAddedAndDeletedInBothFamilies() {
        byte[] ab = concat(ifname("ivc1"), ifname("ivc22"));
        byte[] ba = concat(ifname("ivc22"), ifname("ivc1"));
        socket.execute(NfTables.transaction(List.of(
                NfTables.addElements(NfTables.BRIDGE, "t", "links", List.of(ab, ba)),
                NfTables.addElements(NfTables.BRIDGE, "t", "port_macs",
                        List.of(concat(ifname("ivc1"), new byte[]{2, 0x11, 0x22, 0x33, 0x44, 0x55, 0, 0}))),
                NfTables.addElements(NfTables.INET, "t", "internet4", List.of(new byte[]{10, 1, 2, 3})),
                NfTables.addElements(NfTables.INET, "t", "internet6",
                        List.of(new byte[]{(byte) 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1})))));
        String links = list("bridge", "links");
        assertTrue(links.contains("\"ivc1\" . \"ivc22\""), links);
        assertTrue(links.contains("\"ivc22\" . \"ivc1\""), links);
        assertTrue(list("bridge", "port_macs").contains("\"ivc1\" . 02:11:22:33:44:55"), list("bridge", "port_macs"));
        assertTrue(list("inet", "internet4").contains("10.1.2.3"), list("inet", "internet4"));
        assertTrue(list("inet", "internet6").contains("fd00::1"), list("inet", "internet6"));

        // adding what is there already changes nothing and is no error (nft's "add element")
        socket.execute(NfTables.transaction(List.of(NfTables.addElements(NfTables.BRIDGE, "t", "links", List.of(ab)))));
        socket.execute(NfTables.transaction(List.of(
                NfTables.deleteElements(NfTables.BRIDGE, "t", "links", List.of(ab, ba)),
                NfTables.deleteElements(NfTables.INET, "t", "internet4", List.of(new byte[]{10, 1, 2, 3})))));
        assertFalse(list("bridge", "links").contains("ivc1"), list("bridge", "links"));
        assertFalse(list("inet", "internet4").contains("10.1.2.3"), list("inet", "internet4"));
        assertTrue(list("inet", "internet6").contains("fd00::1"));
    }

    @Test
    void aTransactionWithOneRefusedChangeChangesNothing() {
        byte[] present = {10, 0, 0, 1};
        byte[] absent = {10, 0, 0, 2};
        NetlinkException e = assertThrows(NetlinkException.class, () -> socket.execute(NfTables.transaction(List.of(
                NfTables.addElements(NfTables.INET, "t", "internet4", List.of(present)),
                NfTables.deleteElements(NfTables.INET, "t", "internet4", List.of(absent))))));
        assertEquals(NetlinkException.ENOENT, e.errno());
        assertTrue(e.getMessage().contains("delete element inet t internet4"), e.getMessage());
        assertTrue(e.getMessage().contains("no such entry"), e.getMessage());
        assertFalse(list("inet", "internet4").contains("10.0.0.1"), list("inet", "internet4"));
        // the socket stays usable: the next transaction is answered on its own
        socket.execute(NfTables.transaction(List.of(NfTables.addElements(NfTables.INET, "t", "internet4", List.of(present)))));
        assertTrue(list("inet", "internet4").contains("10.0.0.1"));
    }

    @Test
    void aMissingSetOrTableAndAWrongKeyAreRefusedPlainly() {
        NetlinkException noSet = assertThrows(NetlinkException.class, () -> socket.execute(NfTables.transaction(List.of(
                NfTables.addElements(NfTables.INET, "t", "nosuchset", List.of(new byte[]{10, 0, 0, 1}))))));
        assertEquals(NetlinkException.ENOENT, noSet.errno());
        assertTrue(noSet.getMessage().contains("add element inet t nosuchset"), noSet.getMessage());
        NetlinkException noTable = assertThrows(NetlinkException.class, () -> socket.execute(NfTables.transaction(List.of(
                NfTables.addElements(NfTables.BRIDGE, "gone", "links", List.of(new byte[32]))))));
        assertEquals(NetlinkException.ENOENT, noTable.errno());
        // an IPv6 key for an IPv4 set: the kernel checks the length
        NetlinkException wrongKey = assertThrows(NetlinkException.class, () -> socket.execute(NfTables.transaction(List.of(
                NfTables.addElements(NfTables.INET, "t", "internet4", List.of(new byte[16]))))));
        assertEquals(NetlinkException.EINVAL, wrongKey.errno());
        assertFalse(list("inet", "internet4").contains("."), list("inet", "internet4"));
    }

    @Test
    void tenThousandTransactionsLeaveNoDescriptorOrThreadBehind() throws IOException {
        // warm up: JNA's own first-use allocations are not what is measured
        for (int i = 0; i < 100; i++) {
            addAndDelete(i);
        }
        long fds = openDescriptors();
        int threads = Thread.activeCount();
        for (int i = 0; i < 10_000; i++) {
            addAndDelete(i);
        }
        assertEquals(fds, openDescriptors(), "open descriptors (ls /proc/self/fd) before and after");
        assertEquals(threads, Thread.activeCount(), "threads before and after");
        assertFalse(list("inet", "internet4").contains("10.9."), list("inet", "internet4"));
    }

    /** One transaction adding and one deleting a key (the firewall's idempotent delete). */
    private void addAndDelete(int i) {
        byte[] key = {10, 9, (byte) (i >> 8), (byte) i};
        socket.execute(NfTables.transaction(List.of(NfTables.addElements(NfTables.INET, "t", "internet4", List.of(key)))));
        socket.execute(NfTables.transaction(List.of(
                NfTables.addElements(NfTables.INET, "t", "internet4", List.of(key)),
                NfTables.deleteElements(NfTables.INET, "t", "internet4", List.of(key)))));
    }

    private static long openDescriptors() throws IOException {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.count();
        }
    }

    private String list(String family, String set) {
        return nft("list set " + family + " t " + set + "\n");
    }

    private String nft(String script) {
        List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", ns.name, "nft", "-f", "-"));
        return ProcessRunner.run(cmd, script);
    }

    private static byte[] ifname(String name) {
        return Arrays.copyOf(name.getBytes(), 16);
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
