package dev.intervirt.agent.host;

import dev.intervirt.agent.host.netlink.NfTables;
import dev.intervirt.agent.value.MacAddress;
import dev.intervirt.agent.value.Protocol;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * {@link Firewall} on nftables: two tables of the agent's own, {@code table bridge <base>} and
 * {@code table inet <base>}, every rule scoped to one bridge so that two instances (production
 * {@code intervirt}/{@code ivbr0} and a test's {@code ivtest}/{@code ivtbr9}) never meet.
 *
 * <h2>bridge table (layer 2, frames of the container ports)</h2>
 * <ul>
 * <li>{@code ports}: the port names this firewall governs. Frames from a governed port must be
 * ARP/IPv4/IPv6 (no VLAN tags or other ethertypes that would slip past the address checks) and
 * carry the registered MAC (frame and ARP sender), IPv4 (IP source and ARP sender) and IPv6
 * source ({@code fe80::/10} excepted, NDP needs it). Router advertisements, redirects and DHCP
 * server replies from ports are dropped. {@link #removePort} keeps the name governed, so a
 * deregistered port is closed, not open.</li>
 * <li>{@code links}: {@code iifname . oifname} pairs (both directions) that may exchange
 * frames; every other frame between two ports, or between a governed and any other port, is
 * dropped. Accepted frames get {@link #BRIDGED_MARK} so that, should {@code br_netfilter} be
 * active ({@code net.bridge.bridge-nf-call-iptables=1}), the inet forward chain can tell these
 * bridged packets from routed bridge→bridge packets (the gateway bypass) instead of dropping
 * all container traffic.</li>
 * <li>Where the kernel has {@code nft_meta_bridge} ({@code CONFIG_NFT_BRIDGE_META}; Debian
 * kernels do, some CI kernels do not), frames of ports of this bridge that are not governed
 * are dropped as well ({@code meta ibrname}). Without it, register a port with
 * {@link #addPort} before the container starts (names are stable, so that is possible).</li>
 * </ul>
 *
 * <h2>inet table (routed traffic)</h2>
 * <ul>
 * <li>input from the bridge: established/related and the neighbour solicitations and
 * advertisements needed to resolve the gateways; nothing else (no agent port, no guest
 * service). Input to the gateway address {@value #GATEWAY_IPV4} from anywhere else: TCP only
 * when DNATed (the SSH gateways of forwards to port 22 listen there), else a reset.</li>
 * <li>forward from the bridge: never back into the bridge (gateway bypass); replies of port
 * forwards ({@code ct status dnat}); sources in {@code internet4}/{@code internet6} (checked on
 * every packet, so revoking internet access cuts established flows too); nothing else.
 * Forward into the bridge: port forwards, and established/related traffic of containers that
 * have internet access; no other new connection reaches a container from outside.</li>
 * <li>nat: {@code port_forwards} map ({@code inet_proto . inet_service : ipv4_addr .
 * inet_service}) applied in prerouting for traffic to a local address arriving on any interface
 * but the bridge, and in output for the guest's own traffic (its loopback included); the
 * agent's TCP port is never forwarded. Postrouting SNATs forwarded connections to the gateway
 * address {@value #GATEWAY_IPV4} (containers without default route can answer) and masquerades
 * internet sources leaving through any other interface.</li>
 * </ul>
 *
 * <p>Every mutator is one nf_tables transaction of element additions/deletions,
 * idempotent: deletions go as they are, and when one was absent (the transaction failed and
 * changed nothing) the transaction goes again with each deleted element added first in it (nft
 * 1.0.6 and Linux before 6.3 have no {@code destroy}); for the forward map, whose value is
 * unknown on removal, an absent element is recognised by nft's "No such file or directory".
 * The set elements of ports, links and internet access are {@link SetElementChanges}: sent as
 * netlink messages where the executor keeps a socket (the agent's own namespace), else as an
 * nft script; the forward map's changes, the tables' setup and the whole-state batch are nft
 * scripts.
 *
 * <p>Loopback forwards need {@code route_localnet} on the bridge: {@link #install()} sets
 * {@code net.ipv4.conf.<bridge>.route_localnet=1} when the bridge exists, deliberately not
 * {@code conf.all}, which would make 127.0.0.0/8 routable from every interface of the guest
 * (services bound to 127.0.0.1 reachable from the LAN, cf. CVE-2020-8558). Call
 * {@link #install()} again after the bridge was (re)created.
 */
public final class NftFirewall implements Firewall {

    public static final String DEFAULT_TABLE = "intervirt";
    static final String MARKER_SET = "seq";
    public static final String GATEWAY_IPV4 = "169.254.0.1";
    /** Packet mark bit given to frames bridged between linked ports (see class comment). */
    public static final int BRIDGED_MARK = 0x00100000;

    private static final System.Logger LOG = System.getLogger(NftFirewall.class.getName());
    private static final List<String> NFT_COMMAND = List.of("nft", "-f", "-");

    private final String table;
    private final String bridge;
    private final String bridgeQuoted;
    private final int agentPort;
    private final NftExecutor nft;
    private volatile boolean bridgeMetaSupported;
    private final String portPrefix;
    private final String portWildcard;

    /** Production instance: tables {@value #DEFAULT_TABLE}. */
    public NftFirewall(String bridge, int agentPort) {
        this(DEFAULT_TABLE, bridge, agentPort);
    }

    public NftFirewall(String tableBase, String bridge, int agentPort) {
        this(tableBase, bridge, null, agentPort, NftExecutor.local());
    }

    /**
     * @param portPrefix the prefix every port name of the agent starts with: frames of any port
     *                   so named are governed even when nothing is registered for it, and a
     *                   removed port leaves no element behind (null: governed by registration)
     */
    public NftFirewall(String tableBase, String bridge, String portPrefix, int agentPort) {
        this(tableBase, bridge, portPrefix, agentPort,
                NftExecutor.local("bridge " + NftValues.table(tableBase) + " " + MARKER_SET));
    }

    @Override
    public void close() {
        nft.close();
    }

    NftFirewall(String tableBase, String bridge, int agentPort, NftExecutor nft) {
        this(tableBase, bridge, null, agentPort, nft);
    }

    NftFirewall(String tableBase, String bridge, String portPrefix, int agentPort, NftExecutor nft) {
        if (portPrefix != null && !portPrefix.matches("[A-Za-z][A-Za-z0-9_.-]{0,9}")) {
            throw new IllegalArgumentException("invalid port prefix: " + portPrefix);
        }
        this.portWildcard = portPrefix == null ? null : "\"" + portPrefix + "*\"";
        this.portPrefix = portPrefix;
        this.table = NftValues.table(tableBase);
        this.bridge = NftValues.ifname(bridge);
        this.bridgeQuoted = NftValues.quotedIfname(bridge);
        this.agentPort = NftValues.port(agentPort, "agent port");
        this.nft = Objects.requireNonNull(nft);
    }

    public String table() {
        return table;
    }

    public String bridge() {
        return bridge;
    }

    /** Whether the last {@link #install()} could add the {@code meta ibrname} rules. */
    public boolean bridgeMetaSupported() {
        return bridgeMetaSupported;
    }

    // ------------------------------------------------------------------ lifecycle

    @Override
    public void install() {
        ProcessRunner.Result probe = nft.run(bridgeMetaProbeScript());
        if (probe.ok()) {
            bridgeMetaSupported = true;
        } else if (probe.stderr().contains("Operation not supported")) {
            bridgeMetaSupported = false;
            LOG.log(System.Logger.Level.INFO, "nftables bridge meta (meta ibrname) unsupported by this kernel;"
                    + " unregistered ports of {0} are not filtered at layer 2", bridge);
        } else {
            throw failure(probe);
        }
        check(nft.run(installScript(bridgeMetaSupported)));
        enableRouteLocalnet();
    }

    /**
     * Whether both tables exist. Asks for the table names only ({@code list tables}): listing the
     * tables themselves would print every element, which grows with the topology.
     */
    @Override
    public boolean isInstalled() {
        ProcessRunner.Result r = nft.run("list tables\n");
        if (!r.ok()) {
            return true; // a listing that failed (interrupted by a concurrent change) says nothing
        }
        List<String> tables = r.stdout().lines().map(String::strip).toList();
        return tables.contains("table bridge " + table) && tables.contains("table inet " + table);
    }

    @Override
    public void uninstall() {
        check(nft.run(uninstallScript()));
    }

    @Override
    public void flushElements() {
        check(nft.run(flushScript()));
    }

    // ------------------------------------------------------------------ mutators

    /**
     * The whole element state in one transaction: every set and map flushed, then every element
     * {@code elements} adds to the batch it is handed (text only, nothing runs before the end).
     * Used at start and on repair, so elements a crashed agent left behind go while a running
     * container's wires never drop for a moment.
     */
    @Override
    public void replaceElements(Consumer<FirewallElements> elements) {
        ElementBatch batch = new ElementBatch();
        elements.accept(batch);
        check(nft.run(batch.close()));
    }

    /** Runs {@code script}; where it fails with {@code failure} in its stderr, runs {@code instead}. */
    private ProcessRunner.Result runOr(String script, String failure, String instead) {
        ProcessRunner.Result r = nft.run(script);
        return !r.ok() && r.stderr().contains(failure) ? nft.run(instead) : r;
    }

    @Override
    public void addPort(String port, MacAddress mac, Inet4Address ipv4, Inet6Address ipv6) {
        check(nft.runElements(addPortChanges(port, mac, ipv4, ipv6)));
    }

    @Override
    public void removePort(String port, MacAddress mac, Inet4Address ipv4, Inet6Address ipv6) {
        runDeleting(safe -> removePortChanges(port, mac, ipv4, ipv6, safe));
    }

    /**
     * One transaction of what changes only: the old address's element goes, the new one's comes;
     * the MAC and an address that stays are left as they are (taking all out and back in was
     * twelve element changes for one: a steady SetIpv4 loop, its nft step 0.10 -> 0.06 ms). Only
     * the moving address's elements are made (making all and comparing them was a third of it).
     */
    @Override
    public void movePort(String port, MacAddress mac, Inet4Address oldIpv4, Inet6Address oldIpv6,
                         Inet4Address newIpv4, Inet6Address newIpv6) {
        String p = NftValues.quotedIfname(port);
        byte[] name = NftValues.ifnameKey(port);
        List<Element> gone = new java.util.ArrayList<>(2);
        List<Element> come = new java.util.ArrayList<>(2);
        if (!java.util.Objects.equals(oldIpv4, newIpv4)) {
            if (oldIpv4 != null) {
                gone.add(ipv4Element(p, name, oldIpv4));
            }
            if (newIpv4 != null) {
                come.add(ipv4Element(p, name, newIpv4));
            }
        }
        if (!java.util.Objects.equals(oldIpv6, newIpv6)) {
            if (oldIpv6 != null) {
                gone.add(ipv6Element(p, name, oldIpv6));
            }
            if (newIpv6 != null) {
                come.add(ipv6Element(p, name, newIpv6));
            }
        }
        runDeleting(safe -> {
            SetElementChanges changes = deletions(gone, safe);
            come.forEach(e -> add(changes, e));
            return changes;
        });
    }

    @Override
    public void link(String portA, String portB) {
        check(nft.runElements(linkChanges(portA, portB)));
    }

    @Override
    public void unlink(String portA, String portB) {
        runDeleting(safe -> unlinkChanges(portA, portB, safe));
    }

    @Override
    public void setInternet(Inet4Address ipv4, Inet6Address ipv6, boolean enabled) {
        runDeleting(safe -> internetChanges(ipv4, ipv6, enabled, safe));
    }

    /**
     * Straight to the safe form (each element added, then deleted, in one transaction): here the
     * elements are expected absent, and a transaction the kernel refuses for an absent element
     * cost 2–11 ms (measured while containers boot) before the retry.
     */
    @Override
    public void clearInternet(Inet4Address ipv4, Inet6Address ipv6) {
        SetElementChanges changes = internetChanges(ipv4, ipv6, false, true);
        if (!changes.isEmpty()) {
            check(nft.runElements(changes));
        }
    }

    @Override
    public synchronized void addForward(Protocol protocol, int externalPort, Inet4Address target, int internalPort) {
        // "File exists": the key is mapped to another target, so it is replaced atomically.
        check(runOr(addForwardScript(protocol, externalPort, target, internalPort),
                "File exists", replaceForwardScript(protocol, externalPort, target, internalPort)));
    }

    /** Straight to the replacing transaction: an add would fail ("File exists") and cost the session. */
    @Override
    public synchronized void replaceForward(Protocol protocol, int externalPort, Inet4Address target, int internalPort) {
        check(runOr(replaceForwardScript(protocol, externalPort, target, internalPort),
                "No such file or directory", addForwardScript(protocol, externalPort, target, internalPort)));
    }

    @Override
    public synchronized void removeForward(Protocol protocol, int externalPort) {
        ProcessRunner.Result r = nft.run(removeForwardScript(protocol, externalPort));
        if (!r.ok() && r.stderr().contains("No such file or directory")) {
            return; // absent already
        }
        check(r);
    }

    /**
     * The text of {@link #replaceElements}' transaction: the flush, then the additions, built by
     * the same script builders as the live mutators. Closed once the transaction is taken.
     */
    private final class ElementBatch implements FirewallElements {
        private final StringBuilder script = new StringBuilder(flushScript());
        private boolean closed;

        @Override
        public void addPort(String port, MacAddress mac, Inet4Address ipv4, Inet6Address ipv6) {
            addLines(addPortScript(port, mac, ipv4, ipv6));
        }

        @Override
        public void link(String portA, String portB) {
            addLines(linkScript(portA, portB));
        }

        @Override
        public void setInternet(Inet4Address ipv4, Inet6Address ipv6, boolean enabled) {
            addLines(internetScript(ipv4, ipv6, enabled));
        }

        @Override
        public void addForward(Protocol protocol, int externalPort, Inet4Address target, int internalPort) {
            addLines(addForwardScript(protocol, externalPort, target, internalPort));
        }

        private void addLines(String lines) {
            if (closed) {
                throw new IllegalStateException("element batch used after its transaction");
            }
            script.append(lines);
        }

        String close() {
            closed = true;
            return script.toString();
        }
    }

    // ------------------------------------------------------------------ scripts (package-private for tests)

    String bridgeMetaProbeScript() {
        String b = "bridge " + table;
        return lines(
                "add table " + b,
                "add chain " + b + " ibrname_probe",
                "add rule " + b + " ibrname_probe meta ibrname " + bridgeQuoted + " drop",
                "delete chain " + b + " ibrname_probe");
    }

    String installScript(boolean withBridgeMeta) {
        String b = "bridge " + table;
        String i = "inet " + table;
        String br = bridgeQuoted;
        String mark = String.format("0x%08x", BRIDGED_MARK);
        StringBuilder s = new StringBuilder(4096);
        append(s,
                // ---- layer 2
                "add table " + b,
                "add set " + b + " ports { type ifname; }",
                "add set " + b + " port_macs { type ifname . ether_addr; }",
                "add set " + b + " port_ipv4 { type ifname . ipv4_addr; }",
                "add set " + b + " port_ipv6 { type ifname . ipv6_addr; }",
                "add set " + b + " links { type ifname . ifname; }",
                // One element, moved by every element change of the agent's nft session (see NftSession).
                "add set " + b + " " + MARKER_SET + " { type mark; }",
                "add chain " + b + " prerouting { type filter hook prerouting priority filter; policy accept; }",
                "add chain " + b + " forward { type filter hook forward priority filter; policy accept; }",
                "add chain " + b + " port_ingress",
                "add chain " + b + " port_to_port",
                "flush chain " + b + " prerouting",
                "flush chain " + b + " forward",
                "flush chain " + b + " port_ingress",
                "flush chain " + b + " port_to_port",
                "add rule " + b + " prerouting iifname @ports jump port_ingress");
        if (portWildcard != null) {
            append(s, "add rule " + b + " prerouting iifname " + portWildcard + " jump port_ingress");
        }
        if (withBridgeMeta) {
            append(s, "add rule " + b + " prerouting meta ibrname " + br + " drop");
        }
        append(s,
                "add rule " + b + " forward iifname @ports jump port_to_port",
                "add rule " + b + " forward oifname @ports jump port_to_port");
        if (portWildcard != null) {
            append(s,
                    "add rule " + b + " forward iifname " + portWildcard + " jump port_to_port",
                    "add rule " + b + " forward oifname " + portWildcard + " jump port_to_port");
        }
        if (withBridgeMeta) {
            append(s, "add rule " + b + " forward meta ibrname " + br + " drop");
        }
        append(s,
                "add rule " + b + " port_ingress ether type != { arp, ip, ip6 } drop",
                "add rule " + b + " port_ingress iifname . ether saddr != @port_macs drop",
                "add rule " + b + " port_ingress arp htype != 1 drop",
                "add rule " + b + " port_ingress arp ptype != ip drop",
                "add rule " + b + " port_ingress iifname . arp saddr ether != @port_macs drop",
                "add rule " + b + " port_ingress iifname . arp saddr ip != @port_ipv4 drop",
                "add rule " + b + " port_ingress iifname . ip saddr != @port_ipv4 drop",
                "add rule " + b + " port_ingress ip6 saddr != fe80::/10 iifname . ip6 saddr != @port_ipv6 drop",
                "add rule " + b + " port_ingress icmpv6 type { nd-router-advert, nd-redirect } drop",
                "add rule " + b + " port_ingress udp sport { 67, 547 } drop",
                "add rule " + b + " port_ingress accept",
                "add rule " + b + " port_to_port iifname . oifname @links meta mark set meta mark | " + mark + " accept",
                "add rule " + b + " port_to_port drop",
                // ---- layer 3
                "add table " + i,
                "add set " + i + " internet4 { type ipv4_addr; }",
                "add set " + i + " internet6 { type ipv6_addr; }",
                "add map " + i + " port_forwards { type inet_proto . inet_service : ipv4_addr . inet_service; }",
                "add chain " + i + " input { type filter hook input priority filter; policy accept; }",
                "add chain " + i + " forward { type filter hook forward priority filter; policy accept; }",
                "add chain " + i + " nat_prerouting { type nat hook prerouting priority dstnat; policy accept; }",
                "add chain " + i + " nat_output { type nat hook output priority -100; policy accept; }",
                "add chain " + i + " nat_postrouting { type nat hook postrouting priority srcnat; policy accept; }",
                "add chain " + i + " container_to_guest",
                "add chain " + i + " routed_from_containers",
                "add chain " + i + " routed_to_containers",
                "add chain " + i + " port_forwarding",
                "flush chain " + i + " input",
                "flush chain " + i + " forward",
                "flush chain " + i + " nat_prerouting",
                "flush chain " + i + " nat_output",
                "flush chain " + i + " nat_postrouting",
                "flush chain " + i + " container_to_guest",
                "flush chain " + i + " routed_from_containers",
                "flush chain " + i + " routed_to_containers",
                "flush chain " + i + " port_forwarding",
                "add rule " + i + " input iifname " + br + " jump container_to_guest",
                // The SSH gateways listen on the gateway address: only DNATed forwards reach them.
                // New connections only: every agent on a host has this address on its bridge and
                // this rule in its own table, and replies to another agent's gateway probing its
                // computer's port 22 (established) would be rejected here too.
                "add rule " + i + " input ip daddr " + GATEWAY_IPV4 + " meta l4proto tcp ct state new ct status & dnat == 0"
                        + " reject with tcp reset",
                "add rule " + i + " container_to_guest ct state established,related accept",
                "add rule " + i + " container_to_guest icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } ip6 hoplimit 255 accept",
                "add rule " + i + " container_to_guest drop",
                "add rule " + i + " forward iifname " + br + " jump routed_from_containers",
                "add rule " + i + " forward oifname " + br + " jump routed_to_containers",
                "add rule " + i + " routed_from_containers oifname " + br + " meta mark & " + mark + " == " + mark + " accept",
                "add rule " + i + " routed_from_containers oifname " + br + " drop",
                "add rule " + i + " routed_from_containers ct status dnat accept",
                "add rule " + i + " routed_from_containers ip saddr @internet4 accept",
                "add rule " + i + " routed_from_containers ip6 saddr @internet6 accept",
                "add rule " + i + " routed_from_containers drop",
                "add rule " + i + " routed_to_containers ct status dnat accept",
                "add rule " + i + " routed_to_containers ct state established,related ip daddr @internet4 accept",
                "add rule " + i + " routed_to_containers ct state established,related ip6 daddr @internet6 accept",
                "add rule " + i + " routed_to_containers drop",
                "add rule " + i + " nat_prerouting iifname != " + br + " jump port_forwarding",
                "add rule " + i + " nat_output jump port_forwarding",
                "add rule " + i + " port_forwarding tcp dport " + agentPort + " return",
                "add rule " + i + " port_forwarding fib daddr type local dnat ip to meta l4proto . th dport map @port_forwards",
                "add rule " + i + " nat_postrouting oifname " + br + " ct status dnat snat ip to " + GATEWAY_IPV4,
                "add rule " + i + " nat_postrouting oifname != " + br + " ip saddr @internet4 masquerade",
                "add rule " + i + " nat_postrouting oifname != " + br + " ip6 saddr @internet6 masquerade");
        return s.toString();
    }

    String uninstallScript() {
        return lines(
                "add table bridge " + table,
                "delete table bridge " + table,
                "add table inet " + table,
                "delete table inet " + table);
    }

    String flushScript() {
        String b = "bridge " + table;
        String i = "inet " + table;
        return lines(
                "flush set " + b + " ports",
                "flush set " + b + " port_macs",
                "flush set " + b + " port_ipv4",
                "flush set " + b + " port_ipv6",
                "flush set " + b + " links",
                "flush set " + i + " internet4",
                "flush set " + i + " internet6",
                "flush map " + i + " port_forwards");
    }

    String addPortScript(String port, MacAddress mac, Inet4Address ipv4, Inet6Address ipv6) {
        return addPortChanges(port, mac, ipv4, ipv6).script();
    }

    String removePortScript(String port, MacAddress mac, Inet4Address ipv4, Inet6Address ipv6) {
        return removePortChanges(port, mac, ipv4, ipv6, true).script();
    }

    String linkScript(String portA, String portB) {
        return linkChanges(portA, portB).script();
    }

    String unlinkScript(String portA, String portB) {
        return unlinkChanges(portA, portB, true).script();
    }

    String internetScript(Inet4Address ipv4, Inet6Address ipv6, boolean enabled) {
        return internetChanges(ipv4, ipv6, enabled, true).script();
    }

    private SetElementChanges addPortChanges(String port, MacAddress mac, Inet4Address ipv4, Inet6Address ipv6) {
        SetElementChanges c = new SetElementChanges();
        add(c, portName(port));
        for (Element e : portElements(port, mac, ipv4, ipv6)) {
            add(c, e);
        }
        return c;
    }

    private SetElementChanges removePortChanges(String port, MacAddress mac, Inet4Address ipv4, Inet6Address ipv6,
                                                boolean safe) {
        List<Element> elements = new java.util.ArrayList<>(portElements(port, mac, ipv4, ipv6));
        if (portPrefix != null && port.startsWith(portPrefix)) {
            // The prefix rule keeps such a port governed, so its name need not stay in @ports.
            elements.add(portName(port));
        }
        return deletions(elements, safe);
    }

    private Element portName(String port) {
        return new Element(NfTables.BRIDGE, "ports", NftValues.quotedIfname(port), NftValues.ifnameKey(port));
    }

    /** The port's MAC (required), IPv4 and IPv6 registrations, each an element of its set. */
    private List<Element> portElements(String port, MacAddress mac, Inet4Address ipv4, Inet6Address ipv6) {
        String p = NftValues.quotedIfname(port);
        byte[] name = NftValues.ifnameKey(port);
        java.util.ArrayList<Element> out = new java.util.ArrayList<>(3);
        out.add(new Element(NfTables.BRIDGE, "port_macs", p + " . " + NftValues.mac(mac),
                NftValues.concat(name, NftValues.macKey(mac))));
        if (ipv4 != null) {
            out.add(ipv4Element(p, name, ipv4));
        }
        if (ipv6 != null) {
            out.add(ipv6Element(p, name, ipv6));
        }
        return out;
    }

    /** The port's IPv4 registration; {@code quoted} and {@code name}: the port as nft text and as key. */
    private static Element ipv4Element(String quoted, byte[] name, Inet4Address ipv4) {
        return new Element(NfTables.BRIDGE, "port_ipv4", quoted + " . " + NftValues.ipv4(ipv4),
                NftValues.concat(name, NftValues.addressKey(ipv4)));
    }

    private static Element ipv6Element(String quoted, byte[] name, Inet6Address ipv6) {
        return new Element(NfTables.BRIDGE, "port_ipv6", quoted + " . " + NftValues.ipv6(ipv6),
                NftValues.concat(name, NftValues.addressKey(ipv6)));
    }

    /** Both directions of the pair, in one change of {@code links}. */
    private SetElementChanges linkChanges(String portA, String portB) {
        return new SetElementChanges().add(NfTables.BRIDGE, table, "links", linkTexts(portA, portB), linkKeys(portA, portB));
    }

    private SetElementChanges unlinkChanges(String portA, String portB, boolean safe) {
        List<String> texts = linkTexts(portA, portB);
        List<byte[]> keys = linkKeys(portA, portB);
        SetElementChanges c = new SetElementChanges();
        if (safe) {
            c.add(NfTables.BRIDGE, table, "links", texts, keys);
        }
        return c.delete(NfTables.BRIDGE, table, "links", texts, keys);
    }

    private static List<String> linkTexts(String portA, String portB) {
        String a = NftValues.quotedIfname(portA);
        String b = NftValues.quotedIfname(portB);
        if (a.equals(b)) {
            throw new IllegalArgumentException("cannot link a port to itself: " + portA);
        }
        return List.of(a + " . " + b, b + " . " + a);
    }

    private static List<byte[]> linkKeys(String portA, String portB) {
        byte[] a = NftValues.ifnameKey(portA);
        byte[] b = NftValues.ifnameKey(portB);
        return List.of(NftValues.concat(a, b), NftValues.concat(b, a));
    }

    private SetElementChanges internetChanges(Inet4Address ipv4, Inet6Address ipv6, boolean enabled, boolean safe) {
        java.util.ArrayList<Element> elements = new java.util.ArrayList<>(2);
        if (ipv4 != null) {
            elements.add(new Element(NfTables.INET, "internet4", NftValues.ipv4(ipv4), NftValues.addressKey(ipv4)));
        }
        if (ipv6 != null) {
            elements.add(new Element(NfTables.INET, "internet6", NftValues.ipv6(ipv6), NftValues.addressKey(ipv6)));
        }
        if (!enabled) {
            return deletions(elements, safe);
        }
        SetElementChanges c = new SetElementChanges();
        elements.forEach(e -> add(c, e));
        return c;
    }

    /**
     * Deletes the elements. {@code safe}: whether they are there or not, each added first in the
     * same transaction (nft 1.0.6 and Linux before 6.3 have no {@code destroy}; a missing element
     * fails the whole transaction). Else the deletions alone, for {@link #runDeleting}.
     */
    private SetElementChanges deletions(List<Element> elements, boolean safe) {
        SetElementChanges c = new SetElementChanges();
        if (safe) {
            elements.forEach(e -> add(c, e));
        }
        elements.forEach(e -> c.delete(e.family, table, e.set, List.of(e.text), List.of(e.key)));
        return c;
    }

    /**
     * One transaction of {@code changes}, its deletions sent as they are (half the messages of
     * adding each first; they are there but for a change made underneath). When one was absent
     * the kernel changed nothing, and the safe form goes instead.
     */
    private void runDeleting(java.util.function.Function<Boolean, SetElementChanges> changes) {
        SetElementChanges direct = changes.apply(false);
        if (direct.isEmpty()) {
            return;
        }
        ProcessRunner.Result r = nft.runElements(direct);
        if (!r.ok() && absent(r)) {
            r = nft.runElements(changes.apply(true));
        }
        check(r);
    }

    /** nft's words (a script) and the kernel's (netlink) for an element or set that is not there. */
    private static boolean absent(ProcessRunner.Result r) {
        return r.stderr().contains("No such file or directory") || r.stderr().contains("no such entry");
    }

    private void add(SetElementChanges c, Element e) {
        c.add(e.family, table, e.set, List.of(e.text), List.of(e.key));
    }

    /** One element of one of the firewall's sets: its nft text and its key. */
    private record Element(int family, String set, String text, byte[] key) {
    }

    String addForwardScript(Protocol protocol, int externalPort, Inet4Address target, int internalPort) {
        return "add element " + forwardElement(protocol, externalPort, target, internalPort) + "\n";
    }

    String replaceForwardScript(Protocol protocol, int externalPort, Inet4Address target, int internalPort) {
        return lines(
                "delete element " + forwardKey(protocol, externalPort),
                "add element " + forwardElement(protocol, externalPort, target, internalPort));
    }

    String removeForwardScript(Protocol protocol, int externalPort) {
        return "delete element " + forwardKey(protocol, externalPort) + "\n";
    }

    private String forwardKey(Protocol protocol, int externalPort) {
        return "inet " + table + " port_forwards { " + forwardKeyText(protocol, externalPort) + " }";
    }

    private String forwardElement(Protocol protocol, int externalPort, Inet4Address target, int internalPort) {
        String key = forwardKeyText(protocol, externalPort);
        if (protocol == Protocol.TCP && externalPort == agentPort) {
            throw new IllegalArgumentException("TCP port " + agentPort + " is the agent's own port and cannot be forwarded");
        }
        return "inet " + table + " port_forwards { " + key + " : " + NftValues.ipv4(target) + " . "
                + NftValues.port(internalPort, "internal port") + " }";
    }

    private static String forwardKeyText(Protocol protocol, int externalPort) {
        Objects.requireNonNull(protocol, "protocol");
        return protocol.wireName() + " . " + NftValues.port(externalPort, "external port");
    }

    // ------------------------------------------------------------------ helpers

    private void enableRouteLocalnet() {
        if (!nft.sysctl("net/ipv4/conf/" + bridge + "/route_localnet", "1")) {
            LOG.log(System.Logger.Level.WARNING, "bridge {0} does not exist yet: forwards from the guest"
                    + " loopback need install() again once it does", bridge);
        }
    }

    private static void check(ProcessRunner.Result r) {
        if (!r.ok()) {
            throw failure(r);
        }
    }

    private static CommandFailedException failure(ProcessRunner.Result r) {
        return new CommandFailedException(NFT_COMMAND, r.exitCode(), r.stderr().isBlank() ? r.stdout() : r.stderr());
    }

    private static void append(StringBuilder s, String... lines) {
        for (String line : lines) {
            s.append(line).append('\n');
        }
    }

    private static String lines(String... lines) {
        StringBuilder s = new StringBuilder(256);
        append(s, lines);
        return s.toString();
    }

    @Override
    public String toString() {
        return "NftFirewall[table=" + table + ", bridge=" + bridge + ", agentPort=" + agentPort + "]";
    }
}
