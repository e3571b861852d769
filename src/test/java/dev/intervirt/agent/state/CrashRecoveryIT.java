package dev.intervirt.agent.state;

import dev.intervirt.agent.state.StoredTopology.StoredContainer;
import dev.intervirt.agent.state.StoredTopology.StoredForward;
import dev.intervirt.agent.support.AgentClient;
import dev.intervirt.agent.support.AgentClient.Exchange;
import dev.intervirt.agent.support.HostAudit;
import dev.intervirt.agent.support.HostCommands;
import dev.intervirt.agent.support.SubprocessAgent;
import dev.intervirt.agent.support.TestAgent;
import jakarta.json.JsonObjectBuilder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.locks.LockSupport;

import static dev.intervirt.agent.support.AgentClient.request;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The agent as a separate process, SIGKILLed while a request of a seeded random workload is in
 * flight, then started again: the host must equal the stored state (zero leaks, zero losses),
 * the stored state must hold every acknowledged operation, and the interrupted one must be
 * complete or absent. Then a simulated guest reboot: everything torn down, libvirtd and the agent restarted,
 * topology and reachability matrix as before.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CrashRecoveryIT {

    private static final long SEED = Long.getLong("intervirt.test.seed", 20261125L);
    private static final int KILLS = Integer.getInteger("intervirt.test.kills", 24);
    private static final int MAX_CONTAINERS = 4;
    private static final Path LOG = Path.of("target", "crash-recovery-agent.log");
    private static final List<String> KILL_OPS = List.of("add", "start", "connect", "forward", "remove", "stop",
            "disconnect", "setIpv4");

    private final HostAudit audit = HostAudit.ofTestAgent();

    @BeforeAll
    static void clean() {
        TestAgent.wipeHost();
    }

    @AfterAll
    static void cleanUp() {
        TestAgent.wipeHost();
    }

    /** The desired state as the test knows it from acknowledged replies. */
    record Model(TreeMap<String, Box> containers, TreeSet<String> links, TreeMap<String, String> forwards) {
        Model() {
            this(new TreeMap<>(), new TreeSet<>(), new TreeMap<>());
        }

        Model copy() {
            return new Model(new TreeMap<>(containers), new TreeSet<>(links), new TreeMap<>(forwards));
        }

        static Model of(StoredTopology t) {
            Model m = new Model();
            for (StoredContainer c : t.containers()) {
                m.containers.put(c.id(), new Box(norm(c.ipv4()), norm(c.ipv6()), c.running()));
            }
            for (Link l : t.links()) {
                m.links.add(l.a() + "|" + l.b());
            }
            for (StoredForward f : t.forwards()) {
                m.forwards.put(f.protocol() + "/" + f.externalPort(), f.containerId() + ":" + f.internalPort());
            }
            return m;
        }
    }

    record Box(String ipv4, String ipv6, boolean running) {
    }

    record Op(String kind, JsonObjectBuilder request, Model after) {
    }

    @Test
    @Order(1)
    void killNineAtManyPointsLosesAndLeaksNothing() {
        Random rnd = new Random(SEED);
        Model model = new Model();
        int[] counter = {0};
        int acked = 0;
        int killsDuringRequest = 0;
        int completed = 0;
        int absent = 0;
        List<String> leaks = new ArrayList<>();
        Map<String, Integer> killsByOp = new LinkedHashMap<>();
        long t0 = System.nanoTime();
        Model before = null;
        Model after = null;
        boolean replied = false;
        for (int round = 0; round <= KILLS; round++) {
            try (SubprocessAgent agent = SubprocessAgent.start(LOG)) {
                List<String> diffs = audit.differences();
                final int r = round;
                leaks.addAll(diffs.stream().map(d -> "after kill " + r + ": " + d).toList());
                diffs.forEach(d -> System.out.println("CrashRecoveryIT: after kill " + r + ": " + d));
            if (!diffs.isEmpty()) {
                System.out.println("CrashRecoveryIT: helpers now: " + HostCommands.sh("sh", "-c",
                        "ps -eo pid,ppid,etimes,args | grep -E 'nft|nsenter|ip -' | grep -v grep").stdout());
            }
                Model stored = Model.of(audit.stored());
                if (before != null) {
                    if (stored.equals(after)) {
                        completed++;
                    } else {
                        assertFalse(replied, "an acknowledged operation was lost: " + stored + " vs " + after);
                        assertEquals(before, stored, "the interrupted operation is complete or absent");
                        absent++;
                    }
                } else {
                    assertEquals(model, stored);
                }
                model = stored;
                if (round == KILLS) {
                    agent.kill();
                    break;
                }
                try (AgentClient client = agent.client()) {
                    int n = 2 + rnd.nextInt(3);
                    for (int i = 0; i < n; i++) {
                        Op op = next(rnd, model, counter, null);
                        Exchange x = client.call(op.request().build(), Duration.ofSeconds(60));
                        assertTrue(x.ok(), op.kind() + " acknowledged: " + x);
                        model = op.after();
                        acked++;
                        assertEquals(model, Model.of(audit.stored()), "an acknowledged " + op.kind() + " is stored");
                    }
                    String kind = KILL_OPS.get(round % KILL_OPS.size());
                    if (!possible(model).contains(kind)) {
                        // One acknowledged step that makes the wanted kind possible (a link to cut, a container to stop).
                        Op enabling = next(rnd, model, counter, switch (kind) {
                            case "disconnect" -> "connect";
                            case "stop" -> "start";
                            case "start" -> "stop";
                            default -> "add";
                        });
                        assertTrue(client.call(enabling.request().build(), Duration.ofSeconds(60)).ok());
                        model = enabling.after();
                        acked++;
                    }
                    Op op = next(rnd, model, counter, kind);
                    killsByOp.merge(op.kind(), 1, Integer::sum);
                    var request = op.request().build();
                    client.sendText(request.toString());
                    LockSupport.parkNanos(Duration.ofMillis(delayMillis(rnd, op.kind())).toNanos());
                    agent.kill();
                    try {
                        replied = client.awaitFinal(request.getString("uuid"), Duration.ofMillis(200), System.nanoTime()).ok();
                    } catch (AssertionError noReply) {
                        replied = false;
                        killsDuringRequest++;
                    }
                    before = model;
                    after = op.after();
                }
            }
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        System.out.printf("CrashRecoveryIT: seed %d, %d kills (%d before the reply: %d completed, %d absent), "
                        + "%d acknowledged operations, kills by operation %s, leaks/losses found %d, %.1f s%n",
                SEED, KILLS, killsDuringRequest, completed, absent, acked, killsByOp, leaks.size(), seconds);
        assertEquals(List.of(), leaks);
        assertTrue(KILLS >= 20);
    }

    private static long delayMillis(Random rnd, String kind) {
        return switch (kind) {
            case "add" -> rnd.nextInt(120);
            case "start" -> rnd.nextInt(500);
            case "stop", "remove" -> rnd.nextInt(700);
            default -> rnd.nextInt(8);
        };
    }

    /** A random operation that is valid in {@code m} (of kind {@code want} where possible), with the state after it. */
    private static Op next(Random rnd, Model m, int[] counter, String want) {
        List<String> ids = new ArrayList<>(m.containers().keySet());
        List<String> possible = possible(m);
        String kind = want != null && possible.contains(want) ? want : possible.get(rnd.nextInt(possible.size()));
        Model after = m.copy();
        return op(rnd, m, counter, ids, kind, after);
    }

    private static List<String> possible(Model m) {
        List<String> ids = new ArrayList<>(m.containers().keySet());
        List<String> possible = new ArrayList<>();
        if (ids.size() < MAX_CONTAINERS) {
            possible.add("add");
        }
        if (ids.stream().anyMatch(id -> !m.containers().get(id).running())) {
            possible.add("start");
        }
        if (ids.stream().anyMatch(id -> m.containers().get(id).running())) {
            possible.add("stop");
        }
        if (!ids.isEmpty()) {
            possible.addAll(List.of("remove", "setIpv4", "forward"));
        }
        if (unlinkedPairs(m).size() > 0) {
            possible.add("connect");
        }
        if (!m.links().isEmpty()) {
            possible.add("disconnect");
        }
        return possible;
    }

    private static Op op(Random rnd, Model m, int[] counter, List<String> ids, String kind, Model after) {
        switch (kind) {
            case "add" -> {
                int n = ++counter[0];
                String id = "k" + n;
                String ipv4 = "10.77." + (n / 200) + "." + (n % 200 + 2);
                String ipv6 = "fd77::" + Integer.toHexString(n + 1);
                after.containers().put(id, new Box(norm(ipv4), norm(ipv6), false));
                return new Op(kind, request("AddContainer").add("id", id).add("ipv4", ipv4).add("ipv6", ipv6)
                        .add("mac", String.format("02:77:00:00:%02x:%02x", n / 256, n % 256)).add("internet", rnd.nextBoolean())
                        .add("image", "debian/13"), after);
            }
            case "start", "stop" -> {
                boolean start = kind.equals("start");
                List<String> c = ids.stream().filter(id -> m.containers().get(id).running() != start).toList();
                String id = c.get(rnd.nextInt(c.size()));
                Box b = m.containers().get(id);
                after.containers().put(id, new Box(b.ipv4(), b.ipv6(), start));
                return new Op(kind, request(start ? "StartContainer" : "StopContainer").add("id", id), after);
            }
            case "remove" -> {
                String id = ids.get(rnd.nextInt(ids.size()));
                after.containers().remove(id);
                after.links().removeIf(l -> List.of(l.split("\\|")).contains(id));
                after.forwards().values().removeIf(v -> v.startsWith(id + ":"));
                return new Op(kind, request("RemoveContainer").add("id", id), after);
            }
            case "setIpv4" -> {
                String id = ids.get(rnd.nextInt(ids.size()));
                int n = ++counter[0];
                String ipv4 = "10.78." + (n / 200) + "." + (n % 200 + 2);
                Box b = m.containers().get(id);
                after.containers().put(id, new Box(norm(ipv4), b.ipv6(), b.running()));
                return new Op(kind, request("IDWithNewIpv4").add("id", id).add("newIpv4", ipv4), after);
            }
            case "forward" -> {
                String id = ids.get(rnd.nextInt(ids.size()));
                String key = "tcp/" + (20000 + ++counter[0]);
                after.forwards().put(key, id + ":80");
                return new Op(kind, request("AddPortForwarding").add("id", id).add("internalPort", 80)
                        .add("externalPort", Integer.parseInt(key.substring(4))).add("protocol", "tcp"), after);
            }
            case "connect" -> {
                List<String[]> pairs = unlinkedPairs(m);
                String[] p = pairs.get(rnd.nextInt(pairs.size()));
                after.links().add(p[0] + "|" + p[1]);
                return new Op(kind, request("Connect").add("id1", p[1]).add("id2", p[0]), after);
            }
            case "disconnect" -> {
                List<String> ls = new ArrayList<>(m.links());
                String l = ls.get(rnd.nextInt(ls.size()));
                after.links().remove(l);
                String[] p = l.split("\\|");
                return new Op(kind, request("Disconnect").add("id1", p[0]).add("id2", p[1]), after);
            }
            default -> throw new IllegalStateException(kind);
        }
    }

    private static List<String[]> unlinkedPairs(Model m) {
        List<String> ids = new ArrayList<>(m.containers().keySet());
        List<String[]> pairs = new ArrayList<>();
        for (int i = 0; i < ids.size(); i++) {
            for (int j = i + 1; j < ids.size(); j++) {
                String a = ids.get(i).compareTo(ids.get(j)) < 0 ? ids.get(i) : ids.get(j);
                String b = a.equals(ids.get(i)) ? ids.get(j) : ids.get(i);
                if (!m.links().contains(a + "|" + b)) {
                    pairs.add(new String[]{a, b});
                }
            }
        }
        return pairs;
    }

    static String norm(String address) {
        try {
            return InetAddress.getByName(address).getHostAddress();
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    // ---- reboot ---------------------------------------------------------------------------

    @Test
    @Order(2)
    void aSimulatedGuestRebootRestoresTopologyAndReachability() {
        TestAgent.wipeHost();
        String[] ids = {"r1", "r2", "r3"};
        SubprocessAgent agent = SubprocessAgent.start(LOG);
        try (AgentClient client = agent.client()) {
            for (int i = 0; i < ids.length; i++) {
                ok(client, request("AddContainer").add("id", ids[i]).add("ipv4", "10.79.0." + (i + 2))
                        .add("ipv6", "fd79::" + (i + 2)).add("mac", "02:79:00:00:00:0" + (i + 2)).add("internet", i == 0)
                        .add("image", "debian/13"));
                ok(client, request("StartContainer").add("id", ids[i]));
            }
            ok(client, request("Connect").add("id1", "r1").add("id2", "r2"));
            ok(client, request("Connect").add("id1", "r2").add("id2", "r3"));
            ok(client, request("AddPortForwarding").add("id", "r3").add("internalPort", 22).add("externalPort", 22222)
                    .add("protocol", "tcp"));
        }
        Map<String, Boolean> matrixBefore = reachability(ids);
        assertEquals(Map.of("r1->r2", true, "r1->r3", false, "r2->r1", true, "r2->r3", true, "r3->r1", false,
                "r3->r2", true), matrixBefore);
        StoredTopology stateBefore = audit.stored();
        agent.kill();

        long t0 = System.nanoTime();
        tearDownAsAReboot();
        assertEquals(List.of(), new ArrayList<>(audit.runningDomains()), "every domain is down");
        assertEquals(List.of(), new ArrayList<>(audit.mounts()), "no overlay mount");

        long restart = System.nanoTime();
        agent = SubprocessAgent.start(LOG);
        long restoredMs = (System.nanoTime() - restart) / 1_000_000;
        try {
            assertEquals(List.of(), audit.differences(), "host == stored state after the reboot");
            assertEquals(Model.of(stateBefore), Model.of(audit.stored()), "the stored topology survived the reboot");
            Map<String, Boolean> matrixAfter = reachability(ids);
            assertEquals(matrixBefore, matrixAfter, "the reachability matrix is the same as before the reboot");
            System.out.printf("CrashRecoveryIT reboot: 3 containers, 2 links, 1 forward restored in %d ms (agent start to"
                    + " listening, reconcile included); matrix %s; %.1f s with the teardown%n", restoredMs, matrixAfter,
                    (System.nanoTime() - t0) / 1e9);
        } finally {
            agent.kill();
        }
    }

    /** What a guest reboot leaves: no domain running, no agent tables, no mounts, no veths, no bridge, a new libvirtd. */
    private static void tearDownAsAReboot() {
        HostAudit audit = HostAudit.ofTestAgent();
        for (String d : audit.runningDomains()) {
            HostCommands.ok("virsh", "-c", "lxc:///system", "destroy", d);
        }
        for (String family : List.of("bridge", "inet")) {
            HostCommands.ok("nft", "delete", "table", family, TestAgent.OWNER);
        }
        for (String m : audit.mounts()) {
            HostCommands.ok("umount", "-l", m);
        }
        for (String v : audit.veths()) {
            HostCommands.sh("ip", "link", "delete", v);
        }
        HostCommands.ok("virsh", "-c", "lxc:///system", "net-destroy", TestAgent.OWNER);
        HostCommands.sh("ip", "link", "delete", TestAgent.BRIDGE);
        restartLibvirtd();
    }

    /** A booting guest starts a fresh libvirtd: stop the running one, then start it as the scripts do. */
    private static void restartLibvirtd() {
        String pid = HostCommands.ok("pidof", "libvirtd").trim().split("\\s+")[0];
        HostCommands.ok("kill", pid);
        try {
            for (int i = 0; i < 100 && HostCommands.sh("kill", "-0", pid).ok(); i++) {
                Thread.sleep(100);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
        assertFalse(HostCommands.sh("kill", "-0", pid).ok(), "libvirtd stopped");
        HostCommands.ok("bash", "scripts/start-libvirtd.sh");
    }

    /** Who pings whom (IPv4, from inside each container's network namespace). */
    private static Map<String, Boolean> reachability(String[] ids) {
        Map<String, String> ipv4 = new TreeMap<>();
        for (StoredContainer c : HostAudit.ofTestAgent().stored().containers()) {
            ipv4.put(c.id(), c.ipv4());
        }
        Map<String, Boolean> m = new TreeMap<>();
        for (String from : ids) {
            for (String to : ids) {
                if (!from.equals(to)) {
                    m.put(from + "->" + to, HostCommands.insideNet(TestAgent.OWNER + "-" + from, "ping", "-c", "1", "-W", "1",
                            ipv4.get(to)).ok());
                }
            }
        }
        return m;
    }

    private static void ok(AgentClient client, JsonObjectBuilder request) {
        Exchange x = client.call(request);
        assertTrue(x.ok(), x::toString);
    }
}
