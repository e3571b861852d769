package dev.intervirt.agent.support;

import dev.intervirt.agent.protocol.Json;
import dev.intervirt.agent.state.Link;
import dev.intervirt.agent.state.StoredTopology;
import dev.intervirt.agent.state.StoredTopology.StoredContainer;
import dev.intervirt.agent.state.StoredTopology.StoredForward;
import jakarta.json.JsonArray;
import jakarta.json.JsonObject;
import jakarta.json.JsonString;
import jakarta.json.JsonValue;

import java.io.IOException;
import java.io.StringReader;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Compares what is on the host, read with the host's own tools (virsh, nft -j, ip, /proc),
 * with the agent's stored topology: every stored container, link and forward is there
 * (no loss), and nothing named like the agent's is there that the topology does not know
 * (no leak). Returns the differences as readable lines; an empty list means host == state.
 */
public final class HostAudit {

    private final String owner;
    private final String portPrefix;
    private final String bridge;
    private final Path stateDir;

    public HostAudit(String owner, String portPrefix, String bridge, Path stateDir) {
        this.owner = owner;
        this.portPrefix = portPrefix;
        this.bridge = bridge;
        this.stateDir = stateDir;
    }

    public static HostAudit ofTestAgent() {
        return new HostAudit(TestAgent.OWNER, TestAgent.PORT_PREFIX, TestAgent.BRIDGE, TestAgent.STATE_DIR);
    }

    /** The stored topology as the agent reads it at start: the snapshot plus the link journal. */
    public StoredTopology stored() {
        return new dev.intervirt.agent.state.StateStore(stateDir).load();
    }

    /** Every difference between the host and the stored topology. */
    public List<String> differences() {
        StoredTopology t = stored();
        List<String> diffs = new ArrayList<>();
        List<StoredContainer> cs = t.containers() == null ? List.of() : t.containers();
        List<Link> links = t.links() == null ? List.of() : t.links();
        List<StoredForward> fws = t.forwards() == null ? List.of() : t.forwards();

        compare(diffs, "domain", domains(), set(cs.stream().map(c -> owner + "-" + c.id())));
        compare(diffs, "running domain", runningDomains(),
                set(cs.stream().filter(StoredContainer::running).map(c -> owner + "-" + c.id())));
        compare(diffs, "overlay mount", mounts(),
                set(cs.stream().filter(StoredContainer::running).map(c -> stateDir.resolve("containers").resolve(c.id())
                        .resolve("rootfs").toString())));
        compare(diffs, "container directory", directories(), set(cs.stream().map(StoredContainer::id)));
        compare(diffs, "veth", veths(), set(cs.stream().filter(StoredContainer::running).map(StoredContainer::port)));

        compare(diffs, "nft ports", elements("bridge", "ports"), set(cs.stream().map(StoredContainer::port)));
        compare(diffs, "nft port_macs", elements("bridge", "port_macs"),
                set(cs.stream().map(c -> c.port() + " . " + norm(c.mac()))));
        compare(diffs, "nft port_ipv4", elements("bridge", "port_ipv4"),
                set(cs.stream().map(c -> c.port() + " . " + norm(c.ipv4()))));
        compare(diffs, "nft port_ipv6", elements("bridge", "port_ipv6"),
                set(cs.stream().map(c -> c.port() + " . " + norm(c.ipv6()))));
        compare(diffs, "nft links", unorderedPairs(elements("bridge", "links")), set(links.stream().map(l -> {
            String a = port(cs, l.a());
            String b = port(cs, l.b());
            return a.compareTo(b) < 0 ? a + " . " + b : b + " . " + a;
        })));
        compare(diffs, "nft internet4", elements("inet", "internet4"),
                set(cs.stream().filter(StoredContainer::internet).map(c -> norm(c.ipv4()))));
        compare(diffs, "nft internet6", elements("inet", "internet6"),
                set(cs.stream().filter(StoredContainer::internet).map(c -> norm(c.ipv6()))));
        compare(diffs, "nft port_forwards", sshGatewaysNamed(elements("inet", "port_forwards")), set(fws.stream().map(f ->
                f.protocol() + " . " + f.externalPort() + " : " + (isSsh(f) ? SSH_GATEWAY
                        : norm(ipv4(cs, f.containerId())) + " . " + f.internalPort()))));
        compare(diffs, "host route", hostRoutes(), set(cs.stream().flatMap(c -> Stream.of(norm(c.ipv4()), norm(c.ipv6())))));
        return diffs;
    }

    /** A forward to port 22/tcp is DNATed to an SSH gateway of the agent (issue 13), not to the container. */
    static final String SSH_GATEWAY = "<ssh gateway listening>";

    private static boolean isSsh(StoredForward f) {
        return "tcp".equals(String.valueOf(f.protocol())) && f.internalPort() == 22;
    }

    /** Elements DNATed to 169.254.0.1 . P where something listens on 169.254.0.1:P, as {@link #SSH_GATEWAY}. */
    private static Set<String> sshGatewaysNamed(Set<String> elements) {
        String listening = HostCommands.sh("ss", "-ltnH", "src", "169.254.0.1").stdout();
        return set(elements.stream().map(e -> {
            int at = e.indexOf(" : 169.254.0.1 . ");
            if (at < 0) {
                return e;
            }
            String port = e.substring(at + " : 169.254.0.1 . ".length()).trim();
            // Java listens dual-stack: ss shows [::ffff:169.254.0.1]:P.
            boolean open = listening.lines().anyMatch(l -> l.matches(".*169\\.254\\.0\\.1\\]?:" + port + "\\s.*"));
            return open ? e.substring(0, at) + " : " + SSH_GATEWAY : e;
        }));
    }

    private static String port(List<StoredContainer> cs, String id) {
        return cs.stream().filter(c -> c.id().equals(id)).findFirst().map(StoredContainer::port).orElse("?" + id);
    }

    private static String ipv4(List<StoredContainer> cs, String id) {
        return cs.stream().filter(c -> c.id().equals(id)).findFirst().map(StoredContainer::ipv4).orElse("0.0.0.0");
    }

    private static void compare(List<String> diffs, String what, Set<String> host, Set<String> stored) {
        Set<String> leaked = new TreeSet<>(host);
        leaked.removeAll(stored);
        Set<String> lost = new TreeSet<>(stored);
        lost.removeAll(host);
        leaked.forEach(x -> diffs.add("LEAK " + what + ": " + x));
        lost.forEach(x -> diffs.add("LOSS " + what + ": " + x));
    }

    private static Set<String> set(Stream<String> s) {
        return s.collect(Collectors.toCollection(TreeSet::new));
    }

    // ---- the host, read on its own ----------------------------------------------------------

    public Set<String> domains() {
        return virshNames("--all");
    }

    public Set<String> runningDomains() {
        return virshNames("--state-running");
    }

    private Set<String> virshNames(String filter) {
        String out = HostCommands.ok("virsh", "-c", "lxc:///system", "list", filter, "--name");
        return set(out.lines().map(String::trim).filter(n -> n.startsWith(owner + "-")));
    }

    public Set<String> mounts() {
        String prefix = stateDir.resolve("containers").toString() + "/";
        try {
            return set(Files.readAllLines(Path.of("/proc/self/mountinfo")).stream().map(l -> l.split(" ")[4])
                    .filter(m -> m.startsWith(prefix)));
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    public Set<String> directories() {
        Path dir = stateDir.resolve("containers");
        if (!Files.isDirectory(dir)) {
            return new TreeSet<>();
        }
        try (Stream<Path> s = Files.list(dir)) {
            return set(s.map(p -> p.getFileName().toString()));
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    /** Host-side interfaces named with the agent's port prefix (its bridge excluded). */
    public Set<String> veths() {
        String out = HostCommands.ok("ip", "-o", "link", "show");
        return set(out.lines().map(l -> l.split(":\\s+")).filter(f -> f.length > 1).map(f -> f[1].split("@")[0])
                .filter(n -> n.startsWith(portPrefix) && !n.equals(bridge)));
    }

    /** The agent's host routes through its bridge (ip route replace gives them proto boot). */
    public Set<String> hostRoutes() {
        Set<String> routes = new TreeSet<>();
        for (String family : List.of("-4", "-6")) {
            var r = HostCommands.sh("ip", family, "route", "show", "dev", bridge, "proto", "boot");
            if (r.ok()) {
                r.stdout().lines().map(l -> l.split(" ")[0].replaceAll("/(32|128)$", "")).filter(s -> !s.isBlank())
                        .map(HostAudit::norm).forEach(routes::add);
            }
        }
        return routes;
    }

    /** The elements of one set or map of the agent's tables, each as "a . b" or "k . k : v . v". */
    public Set<String> elements(String family, String name) {
        var r = HostCommands.sh("nft", "-j", "list", family.equals("inet") && name.equals("port_forwards") ? "map" : "set",
                family, owner, name);
        if (!r.ok()) {
            return set(Stream.of("<no " + family + " " + owner + " " + name + ">"));
        }
        JsonObject root = jakarta.json.Json.createReader(new StringReader(r.stdout())).readObject();
        Set<String> out = new TreeSet<>();
        for (JsonValue v : root.getJsonArray("nftables")) {
            JsonObject o = v.asJsonObject();
            JsonObject body = o.containsKey("set") ? o.getJsonObject("set") : o.getJsonObject("map");
            if (body != null && body.containsKey("elem")) {
                for (JsonValue e : body.getJsonArray("elem")) {
                    out.add(text(e));
                }
            }
        }
        return out;
    }

    private static Set<String> unorderedPairs(Set<String> pairs) {
        return set(pairs.stream().map(p -> {
            String[] f = p.split(" \\. ");
            return f[0].compareTo(f[1]) < 0 ? f[0] + " . " + f[1] : f[1] + " . " + f[0];
        }));
    }

    private static String text(JsonValue v) {
        return switch (v.getValueType()) {
            case STRING -> norm(((JsonString) v).getString());
            case NUMBER -> v.toString();
            case ARRAY -> {
                JsonArray a = v.asJsonArray();
                yield text(a.get(0)) + " : " + text(a.get(1));
            }
            case OBJECT -> {
                JsonObject o = v.asJsonObject();
                if (o.containsKey("concat")) {
                    yield o.getJsonArray("concat").stream().map(HostAudit::text).collect(Collectors.joining(" . "));
                }
                if (o.containsKey("elem")) {
                    yield text(o.getJsonObject("elem").get("val"));
                }
                yield o.toString();
            }
            default -> v.toString();
        };
    }

    /** One spelling per value: MACs lower case, addresses in Java's full form. */
    static String norm(String s) {
        if (s.matches("(?i)([0-9a-f]{1,2}:){5}[0-9a-f]{1,2}")) {
            return s.toLowerCase();
        }
        if (s.matches("[0-9.]+") && s.chars().filter(ch -> ch == '.').count() == 3 || s.matches("(?i)[0-9a-f:.]*:[0-9a-f:.]*")) {
            try {
                return InetAddress.getByName(s).getHostAddress();
            } catch (UnknownHostException e) {
                return s;
            }
        }
        return s;
    }
}
