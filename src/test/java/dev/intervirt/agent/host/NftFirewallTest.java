package dev.intervirt.agent.host;

import dev.intervirt.agent.value.MacAddress;
import dev.intervirt.agent.value.Protocol;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The generated nft scripts, without root: every script goes to a recording executor. */
class NftFirewallTest {

    /** Records scripts; answers with queued results (default: success). */
    static final class Recorder implements NftExecutor {
        final List<String> scripts = new ArrayList<>();
        final List<String> sysctls = new ArrayList<>();
        final Deque<ProcessRunner.Result> answers = new ArrayDeque<>();
        boolean sysctlExists = true;

        @Override
        public ProcessRunner.Result run(String script) {
            scripts.add(script);
            ProcessRunner.Result r = answers.poll();
            return r != null ? r : new ProcessRunner.Result(0, "", "");
        }

        @Override
        public boolean sysctl(String path, String value) {
            sysctls.add(path + "=" + value);
            return sysctlExists;
        }
    }

    private final Recorder nft = new Recorder();
    private final NftFirewall fw = new NftFirewall("ivtest", "ivtbr9", 55436, nft);

    static Inet4Address v4(String s) throws UnknownHostException {
        return (Inet4Address) InetAddress.getByName(s);
    }

    static Inet6Address v6(String s) throws UnknownHostException {
        return (Inet6Address) InetAddress.getByName(s);
    }

    static final MacAddress MAC = new MacAddress("02:49:56:00:00:0a");

    @Test
    void linkIsOneBatchWithBothDirections() {
        fw.link("ivt9a", "ivt9b");
        assertEquals(List.of("add element bridge ivtest links { \"ivt9a\" . \"ivt9b\", \"ivt9b\" . \"ivt9a\" }\n"), nft.scripts);
    }

    @Test
    void unlinkDeletesAndAddsBeforeDeletingOnlyWhenAPairWasAbsent() {
        fw.unlink("ivt9a", "ivt9b");
        String delete = "delete element bridge ivtest links { \"ivt9a\" . \"ivt9b\", \"ivt9b\" . \"ivt9a\" }\n";
        assertEquals(List.of(delete), nft.scripts, "one deletion, no add first");
        nft.scripts.clear();
        // absent (nft's words for a script, the kernel's for netlink): the same again, safe
        for (String absent : List.of("Error: Could not process rule: No such file or directory\n", "no such entry")) {
            nft.answers.add(new ProcessRunner.Result(1, "", absent));
            fw.unlink("ivt9a", "ivt9b");
        }
        String safe = "add element bridge ivtest links { \"ivt9a\" . \"ivt9b\", \"ivt9b\" . \"ivt9a\" }\n" + delete;
        assertEquals(List.of(delete, safe, delete, safe), nft.scripts);
        nft.answers.add(new ProcessRunner.Result(1, "", "Error: Could not process rule: Operation not permitted\n"));
        assertThrows(CommandFailedException.class, () -> fw.unlink("ivt9a", "ivt9b"), "any other failure is thrown");
    }

    @Test
    void addPortRegistersNameMacAndAddresses() throws Exception {
        fw.addPort("ivt9a", MAC, v4("10.0.0.5"), v6("fd00:a::5"));
        assertEquals(List.of(
                "add element bridge ivtest ports { \"ivt9a\" }\n"
                        + "add element bridge ivtest port_macs { \"ivt9a\" . 02:49:56:00:00:0a }\n"
                        + "add element bridge ivtest port_ipv4 { \"ivt9a\" . 10.0.0.5 }\n"
                        + "add element bridge ivtest port_ipv6 { \"ivt9a\" . fd00:a:0:0:0:0:0:5 }\n"),
                nft.scripts);
    }

    @Test
    void removePortKeepsTheNameGovernedAndToleratesAbsence() throws Exception {
        fw.removePort("ivt9a", MAC, v4("10.0.0.5"), null);
        String s = nft.scripts.get(0);
        assertEquals("delete element bridge ivtest port_macs { \"ivt9a\" . 02:49:56:00:00:0a }\n"
                + "delete element bridge ivtest port_ipv4 { \"ivt9a\" . 10.0.0.5 }\n", s);
        nft.answers.add(new ProcessRunner.Result(1, "", "no such entry"));
        fw.removePort("ivt9a", MAC, v4("10.0.0.5"), null);
        assertEquals("add element bridge ivtest port_macs { \"ivt9a\" . 02:49:56:00:00:0a }\n"
                + "add element bridge ivtest port_ipv4 { \"ivt9a\" . 10.0.0.5 }\n"
                + s, nft.scripts.get(2), "absent: each added first");
        assertFalse(s.contains(" ports "), "the name stays in @ports: a deregistered port is closed, not open");
    }

    @Test
    void movePortChangesOnlyTheAddressThatMoves() throws Exception {
        fw.movePort("ivt9a", MAC, v4("10.0.0.5"), v6("fd00:a::5"), v4("10.0.0.9"), v6("fd00:a::5"));
        assertEquals(List.of(
                "delete element bridge ivtest port_ipv4 { \"ivt9a\" . 10.0.0.5 }\n"
                        + "add element bridge ivtest port_ipv4 { \"ivt9a\" . 10.0.0.9 }\n"),
                nft.scripts, "the name, the MAC and the IPv6 address stay as they are");
        nft.scripts.clear();
        fw.movePort("ivt9a", MAC, v4("10.0.0.9"), v6("fd00:a::5"), v4("10.0.0.9"), v6("fd00:a::5"));
        assertEquals(List.of(), nft.scripts, "nothing moves: no transaction");
    }

    @Test
    void ipv6ScopeIsStripped() throws Exception {
        byte[] b = v6("fe80::1234").getAddress();
        Inet6Address scoped = Inet6Address.getByAddress(null, b, 7);
        assertTrue(scoped.getHostAddress().contains("%"));
        fw.setInternet(null, scoped, true);
        assertEquals(List.of("add element inet ivtest internet6 { fe80:0:0:0:0:0:0:1234 }\n"), nft.scripts);
    }

    @Test
    void internetOnAndOff() throws Exception {
        fw.setInternet(v4("10.0.0.5"), v6("fd00::5"), true);
        fw.setInternet(v4("10.0.0.5"), v6("fd00::5"), false);
        fw.setInternet(null, null, false);
        assertEquals(List.of(
                "add element inet ivtest internet4 { 10.0.0.5 }\n"
                        + "add element inet ivtest internet6 { fd00:0:0:0:0:0:0:5 }\n",
                "delete element inet ivtest internet4 { 10.0.0.5 }\n"
                        + "delete element inet ivtest internet6 { fd00:0:0:0:0:0:0:5 }\n"),
                nft.scripts, "nothing to do without addresses: no process at all");
    }

    @Test
    void clearingInternetIsOneTransactionThatAnAbsentElementCannotFail() throws Exception {
        fw.clearInternet(v4("10.0.0.5"), v6("fd00::5"));
        fw.clearInternet(null, null);
        assertEquals(List.of(
                "add element inet ivtest internet4 { 10.0.0.5 }\n"
                        + "add element inet ivtest internet6 { fd00:0:0:0:0:0:0:5 }\n"
                        + "delete element inet ivtest internet4 { 10.0.0.5 }\n"
                        + "delete element inet ivtest internet6 { fd00:0:0:0:0:0:0:5 }\n"),
                nft.scripts, "each element added first: no refused transaction, no retry; nothing without addresses");

        nft.answers.add(new ProcessRunner.Result(1, "", "Error: Could not process rule: Operation not permitted\n"));
        assertThrows(CommandFailedException.class, () -> fw.clearInternet(v4("10.0.0.5"), null));
    }

    @Test
    void addForwardIsOneElement() throws Exception {
        fw.addForward(Protocol.UDP, 5353, v4("10.0.0.5"), 53);
        assertEquals(List.of("add element inet ivtest port_forwards { udp . 5353 : 10.0.0.5 . 53 }\n"), nft.scripts);
    }

    @Test
    void addForwardReplacesAnExistingMappingAtomically() throws Exception {
        nft.answers.add(new ProcessRunner.Result(1, "", "Error: Could not process rule: File exists\n"));
        fw.addForward(Protocol.TCP, 8080, v4("10.0.0.6"), 80);
        assertEquals(2, nft.scripts.size());
        assertEquals("delete element inet ivtest port_forwards { tcp . 8080 }\n"
                + "add element inet ivtest port_forwards { tcp . 8080 : 10.0.0.6 . 80 }\n", nft.scripts.get(1));
    }

    @Test
    void removeForwardToleratesAbsenceButNotOtherErrors() {
        nft.answers.add(new ProcessRunner.Result(1, "", "Error: Could not process rule: No such file or directory\n"));
        fw.removeForward(Protocol.TCP, 8080);
        assertEquals(List.of("delete element inet ivtest port_forwards { tcp . 8080 }\n"), nft.scripts);

        nft.answers.add(new ProcessRunner.Result(1, "", "Error: Could not process rule: Operation not permitted\n"));
        assertThrows(CommandFailedException.class, () -> fw.removeForward(Protocol.TCP, 8080));
    }

    @Test
    void failuresCarryNftsMessage() {
        nft.answers.add(new ProcessRunner.Result(1, "", "Error: Could not process rule: No such file or directory\n"));
        CommandFailedException e = assertThrows(CommandFailedException.class, () -> fw.link("a", "b"));
        assertTrue(e.getMessage().contains("No such file or directory"), e.getMessage());
    }

    @Test
    void theAgentPortCannotBeForwarded() throws Exception {
        assertThrows(IllegalArgumentException.class, () -> fw.addForward(Protocol.TCP, 55436, v4("10.0.0.5"), 80));
        fw.addForward(Protocol.UDP, 55436, v4("10.0.0.5"), 80); // only TCP is the agent's
        assertEquals(1, nft.scripts.size());
    }

    @Test
    void replaceElementsIsOneTransactionOfTheFlushesAndEveryElement() throws Exception {
        Inet4Address a4 = v4("10.0.0.5");
        Inet6Address a6 = v6("fd00:a::5");
        Inet4Address b4 = v4("10.0.0.6");
        fw.replaceElements(batch -> {
            batch.addPort("ivt9a", MAC, a4, a6);
            batch.setInternet(a4, a6, true);
            batch.addPort("ivt9b", new MacAddress("02:49:56:00:00:0b"), b4, null);
            batch.setInternet(b4, null, false);
            batch.link("ivt9a", "ivt9b");
            batch.addForward(Protocol.TCP, 8080, a4, 80);
        });
        assertEquals(List.of("flush set bridge ivtest ports\n"
                + "flush set bridge ivtest port_macs\n"
                + "flush set bridge ivtest port_ipv4\n"
                + "flush set bridge ivtest port_ipv6\n"
                + "flush set bridge ivtest links\n"
                + "flush set inet ivtest internet4\n"
                + "flush set inet ivtest internet6\n"
                + "flush map inet ivtest port_forwards\n"
                + "add element bridge ivtest ports { \"ivt9a\" }\n"
                + "add element bridge ivtest port_macs { \"ivt9a\" . 02:49:56:00:00:0a }\n"
                + "add element bridge ivtest port_ipv4 { \"ivt9a\" . 10.0.0.5 }\n"
                + "add element bridge ivtest port_ipv6 { \"ivt9a\" . fd00:a:0:0:0:0:0:5 }\n"
                + "add element inet ivtest internet4 { 10.0.0.5 }\n"
                + "add element inet ivtest internet6 { fd00:a:0:0:0:0:0:5 }\n"
                + "add element bridge ivtest ports { \"ivt9b\" }\n"
                + "add element bridge ivtest port_macs { \"ivt9b\" . 02:49:56:00:00:0b }\n"
                + "add element bridge ivtest port_ipv4 { \"ivt9b\" . 10.0.0.6 }\n"
                + "add element inet ivtest internet4 { 10.0.0.6 }\n"
                + "delete element inet ivtest internet4 { 10.0.0.6 }\n"
                + "add element bridge ivtest links { \"ivt9a\" . \"ivt9b\", \"ivt9b\" . \"ivt9a\" }\n"
                + "add element inet ivtest port_forwards { tcp . 8080 : 10.0.0.5 . 80 }\n"), nft.scripts);
    }

    @Test
    void aFailingReplacementThrowsAndIsNotRetriedElementByElement() throws Exception {
        nft.answers.add(new ProcessRunner.Result(1, "", "Error: Could not process rule: File exists\n"));
        Inet4Address a4 = v4("10.0.0.5");
        Inet4Address b4 = v4("10.0.0.6");
        CommandFailedException e = assertThrows(CommandFailedException.class, () -> fw.replaceElements(batch -> {
            batch.addForward(Protocol.TCP, 8080, a4, 80);
            batch.addForward(Protocol.TCP, 8080, b4, 80);
        }));
        assertTrue(e.getMessage().contains("File exists"), e.getMessage());
        assertEquals(1, nft.scripts.size(), "one transaction, no \"File exists\" fallback inside it");
        assertTrue(nft.scripts.get(0).startsWith("flush set bridge ivtest ports\n"), nft.scripts.get(0));
    }

    @Test
    void aBadElementStopsTheReplacementBeforeAnythingRuns() throws Exception {
        Inet4Address a4 = v4("10.0.0.5");
        assertThrows(IllegalArgumentException.class, () -> fw.replaceElements(batch -> {
            batch.link("ivt9a", "ivt9b");
            batch.link("ivt9a", "ivt9a");
        }));
        assertThrows(IllegalArgumentException.class, () -> fw.replaceElements(
                batch -> batch.addForward(Protocol.TCP, 55436, a4, 80)));
        assertTrue(nft.scripts.isEmpty(), nft.scripts::toString);
    }

    @Test
    void aBatchKeptBeyondItsTransactionRefusesElements() {
        List<FirewallElements> kept = new ArrayList<>();
        fw.replaceElements(kept::add);
        assertThrows(IllegalStateException.class, () -> kept.get(0).link("ivt9a", "ivt9b"));
        assertEquals(1, nft.scripts.size());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "a b", "a\"b", "ivt9a\" }\nflush ruleset\n", "a;b", "a{b", "a/b", "..", ".",
            "sixteen_chars_xx", "eth0\n", "é", "a\tb", "a*"})
    void portNamesAreCheckedBeforeAnythingRuns(String bad) {
        assertThrows(IllegalArgumentException.class, () -> fw.link(bad, "ivt9b"));
        assertThrows(IllegalArgumentException.class, () -> fw.link("ivt9b", bad));
        assertThrows(IllegalArgumentException.class, () -> fw.unlink(bad, "ivt9b"));
        assertThrows(IllegalArgumentException.class, () -> fw.addPort(bad, MAC, null, null));
        assertThrows(IllegalArgumentException.class, () -> fw.removePort(bad, MAC, null, null));
        assertThrows(IllegalArgumentException.class, () -> new NftFirewall("ivtest", bad, 55436, nft));
        assertTrue(nft.scripts.isEmpty());
    }

    @Test
    void nullPortAndSelfLinkAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> fw.link(null, "b"));
        assertThrows(IllegalArgumentException.class, () -> fw.link("a", "a"));
        assertTrue(nft.scripts.isEmpty());
    }

    @Test
    void acceptsEveryLegalCharacterClass() {
        fw.link("A-z_0.9", "fifteen_chars_x");
        assertEquals(1, nft.scripts.size());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "Intervirt", "1abc", "a-b", "a b", "thirtythree_characters_long_abcde"})
    void tableNamesAreChecked(String bad) {
        assertThrows(IllegalArgumentException.class, () -> new NftFirewall(bad, "ivbr0", 55436, nft));
    }

    @Test
    void portsAreChecked() throws Exception {
        assertThrows(IllegalArgumentException.class, () -> new NftFirewall("t", "ivbr0", 0, nft));
        assertThrows(IllegalArgumentException.class, () -> fw.addForward(Protocol.TCP, 0, v4("10.0.0.5"), 80));
        assertThrows(IllegalArgumentException.class, () -> fw.addForward(Protocol.TCP, 65536, v4("10.0.0.5"), 80));
        assertThrows(IllegalArgumentException.class, () -> fw.addForward(Protocol.TCP, 80, v4("10.0.0.5"), -1));
        assertThrows(IllegalArgumentException.class, () -> fw.removeForward(Protocol.UDP, 70000));
        assertThrows(NullPointerException.class, () -> fw.addForward(null, 80, v4("10.0.0.5"), 80));
        assertThrows(NullPointerException.class, () -> fw.addForward(Protocol.TCP, 80, null, 80));
        assertTrue(nft.scripts.isEmpty());
    }

    @Test
    void installScriptIsScopedToItsBridgeAndTables() {
        String s = fw.installScript(false);
        for (String line : s.split("\n")) {
            assertTrue(line.matches("(add|flush) (table|set|map|chain|rule) (bridge|inet) ivtest\\b.*"), line);
            if (line.contains("hook")) {
                assertTrue(line.contains("policy accept"), "base chains never drop by policy: " + line);
            }
        }
        // the bridge only appears quoted, and every rule of a base chain is scoped
        for (String expected : List.of(
                "add rule inet ivtest input iifname \"ivtbr9\" jump container_to_guest",
                "add rule inet ivtest forward iifname \"ivtbr9\" jump routed_from_containers",
                "add rule inet ivtest forward oifname \"ivtbr9\" jump routed_to_containers",
                "add rule inet ivtest nat_prerouting iifname != \"ivtbr9\" jump port_forwarding",
                "add rule bridge ivtest prerouting iifname @ports jump port_ingress",
                "add rule bridge ivtest port_to_port iifname . oifname @links meta mark set meta mark | 0x00100000 accept",
                "add rule inet ivtest routed_from_containers oifname \"ivtbr9\" meta mark & 0x00100000 == 0x00100000 accept",
                "add rule inet ivtest port_forwarding tcp dport 55436 return",
                "add rule inet ivtest port_forwarding fib daddr type local dnat ip to meta l4proto . th dport map @port_forwards",
                "add rule inet ivtest nat_postrouting oifname \"ivtbr9\" ct status dnat snat ip to 169.254.0.1",
                "add map inet ivtest port_forwards { type inet_proto . inet_service : ipv4_addr . inet_service; }")) {
            assertTrue(s.contains(expected + "\n"), expected);
        }
        assertFalse(s.contains("ibrname"));
        // the anti-spoofing checks, in this order, ending in accept
        int i = s.indexOf("port_ingress ether type != { arp, ip, ip6 } drop");
        int j = s.indexOf("port_ingress iifname . ether saddr != @port_macs drop");
        int k = s.indexOf("port_ingress ip6 saddr != fe80::/10 iifname . ip6 saddr != @port_ipv6 drop");
        int l = s.indexOf("port_ingress accept");
        assertTrue(0 < i && i < j && j < k && k < l, s);
        // chains are flushed before their rules are added, so install() twice gives one copy
        assertTrue(s.indexOf("flush chain bridge ivtest port_ingress") < s.indexOf("add rule bridge ivtest port_ingress"));
        assertTrue(s.indexOf("flush chain inet ivtest port_forwarding") < s.indexOf("add rule inet ivtest port_forwarding"));
    }

    @Test
    void installProbesBridgeMetaAndUsesItWhenPresent() {
        NftFirewall f = new NftFirewall("ivtest", "ivtbr9", 55436, nft);

        f.install();
        assertTrue(f.bridgeMetaSupported());
        assertEquals(2, nft.scripts.size());
        assertTrue(nft.scripts.get(0).contains("meta ibrname \"ivtbr9\" drop"));
        assertTrue(nft.scripts.get(1).contains("add rule bridge ivtest prerouting meta ibrname \"ivtbr9\" drop\n"));
        assertTrue(nft.scripts.get(1).contains("add rule bridge ivtest forward meta ibrname \"ivtbr9\" drop\n"));
        // route_localnet only on the bridge, never conf.all (127/8 routable from every interface)
        assertEquals(List.of("net/ipv4/conf/ivtbr9/route_localnet=1"), nft.sysctls);

        nft.scripts.clear();
        nft.answers.add(new ProcessRunner.Result(1, "", "Error: Could not process rule: Operation not supported\n"));
        f.install();
        assertFalse(f.bridgeMetaSupported());
        assertFalse(nft.scripts.get(1).contains("ibrname"));

        nft.answers.add(new ProcessRunner.Result(1, "", "Error: Could not process rule: Permission denied\n"));
        assertThrows(CommandFailedException.class, f::install);
    }

    @Test
    void installWithoutTheBridgeStillInstallsTheTables() {
        nft.sysctlExists = false;
        fw.install();
        assertEquals(2, nft.scripts.size());
        assertEquals(1, nft.sysctls.size());
    }

    @Test
    void aPortPrefixGovernsUnregisteredPortsAndLetsRemovalCleanUp() throws Exception {
        NftFirewall f = new NftFirewall("ivtest", "ivtbr9", "ivc", 55436, nft);
        String s = f.installScript(false);
        assertTrue(s.contains("add rule bridge ivtest prerouting iifname \"ivc*\" jump port_ingress\n"), s);
        assertTrue(s.contains("add rule bridge ivtest forward iifname \"ivc*\" jump port_to_port\n"), s);
        assertTrue(s.contains("add rule bridge ivtest forward oifname \"ivc*\" jump port_to_port\n"), s);
        f.removePort("ivc12", MAC, null, null);
        assertTrue(nft.scripts.get(0).contains("delete element bridge ivtest ports { \"ivc12\" }"), nft.scripts.get(0));
        for (String bad : new String[] {"", "iv c", "iv\"", "iv*", "1iv", "elevenchars"}) {
            assertThrows(IllegalArgumentException.class, () -> new NftFirewall("ivtest", "ivtbr9", bad, 55436, nft), bad);
        }
    }

    @Test
    void isInstalledAsksForTheTableNamesOnly() {
        nft.answers.add(new ProcessRunner.Result(0, "table inet other\ntable bridge ivtest\ntable inet ivtest\n", ""));
        assertTrue(fw.isInstalled());
        assertEquals(List.of("list tables\n"), nft.scripts);
    }

    @Test
    void isInstalledIsFalseWhenOneTableIsGone() {
        nft.answers.add(new ProcessRunner.Result(0, "table bridge ivtest\ntable inet ivtest2\n", ""));
        assertFalse(fw.isInstalled());
        nft.answers.add(new ProcessRunner.Result(0, "", ""));
        assertFalse(fw.isInstalled());
    }

    @Test
    void aFailedListingSaysNothingAboutTheTables() {
        nft.answers.add(new ProcessRunner.Result(1, "", "Error: interrupted"));
        assertTrue(fw.isInstalled());
    }

    @Test
    void uninstallAndFlushAreIdempotentScripts() {
        fw.uninstall();
        fw.flushElements();
        assertEquals("add table bridge ivtest\ndelete table bridge ivtest\nadd table inet ivtest\ndelete table inet ivtest\n",
                nft.scripts.get(0));
        String flush = nft.scripts.get(1);
        for (String set : List.of("set bridge ivtest ports", "set bridge ivtest port_macs", "set bridge ivtest port_ipv4",
                "set bridge ivtest port_ipv6", "set bridge ivtest links", "set inet ivtest internet4", "set inet ivtest internet6",
                "map inet ivtest port_forwards")) {
            assertTrue(flush.contains("flush " + set + "\n"), set);
        }
    }
}
