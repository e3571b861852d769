package dev.intervirt.agent.bench;

import dev.intervirt.agent.support.AgentClient;
import dev.intervirt.agent.support.AgentClient.Exchange;
import dev.intervirt.agent.support.TestAgent;
import jakarta.json.JsonObjectBuilder;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static dev.intervirt.agent.support.AgentClient.request;

/**
 * {@code ./intervirt bench [N ...]} (default 10 50 100): the agent against the raw floor of its
 * own primitives and against Incus, on this machine, in one run. Sections: floor; Add+Start
 * side by side (floor, agent, incus launch, interleaved round by round); per operation over the
 * WebSocket at each N running containers; topology build (add+start N, full mesh, every link
 * pinging, wipe); footprint; concurrency (1, 10, 50 clients, at the largest N). Output under
 * {@code target/bench/}: report.md, summary.csv (one row per target), measurements.csv.
 * The agent runs as its own process (as {@code ./intervirt run} starts it); its log goes to
 * target/bench/agent.log. Not a test and not in CI.
 */
public final class Bench {

    static final String OWNER = "ivqbench";
    static final String PORT_PREFIX = "ivq";
    static final String BRIDGE = "ivqbr0";
    static final Path STATE_DIR = Path.of("/var/lib/intervirt-bench");
    static final Path OUT = Path.of("target/bench");
    static final int OP_SAMPLES = Integer.getInteger("bench.samples", 200);
    static final int CYCLES = Integer.getInteger("bench.cycles", 20);
    /**
     * Add+Start side by side: a libvirt start varies by ±15 ms between rounds (45-100 ms), so
     * the median of 20 moved the ratio by ±0.06 from run to run, of 40 still 1.03-1.16.
     */
    static final int ROUNDS = Integer.getInteger("bench.rounds", 3 * CYCLES);
    /**
     * {@code version} requests before the side-by-side rounds: both JVMs' request path (JSON,
     * Tyrus, Grizzly) still ran interpreted there and cost 4-6 ms per Add+Start on the way
     * (measured: 1-3 ms between a reply's send and its arrival, 0.2-0.7 once warm), while the
     * floor calls libvirt in-process. The client is a long-running application.
     */
    static final int WARM_REQUESTS = Integer.getInteger("bench.warmRequests", 5000);
    static final int MESH_WINDOW = 256;
    static final int[] CLIENTS = {1, 10, 50};
    static final String[] NETWORK_OPS = {"Connect", "Disconnect", "SetIpv4", "SetIpv4 (5 peers)", "SetInternetAccess",
            "AddPortForwarding"};
    /** Issue 15's targets at the largest N: p50 ms per operation (p99 <= 5 ms for all but port forwards). */
    static final Map<String, Double> P50_TARGETS = Map.of("Connect", 1.0, "Disconnect", 1.0, "SetIpv4", 2.0,
            "SetIpv4 (5 peers)", 2.0, "SetInternetAccess", 1.0, "AddPortForwarding", 5.0);

    private final Report report;
    private final List<String> javaOptions;
    private final String classpath;
    private final Path agentLog = OUT.resolve("agent.log");
    private Floor floor;
    /** Per N: operation -> samples. */
    private final Map<Integer, Map<String, Samples>> ops = new LinkedHashMap<>();
    private final Map<Integer, double[]> footprint = new LinkedHashMap<>();
    private final Samples startToListening = new Samples();
    private final Samples agentAddStart = new Samples();
    private final Samples incusLaunch = new Samples();
    private String incusUnavailable;

    private Bench(List<String> javaOptions, String classpath) {
        this.javaOptions = javaOptions;
        this.classpath = classpath;
        this.report = new Report(OUT, "# Intervirt Agent benchmark\n\n" + Instant.now() + " on " + hostLine()
                + ". Agent JVM options: `" + String.join(" ", javaOptions) + "`. Times are client-observed"
                + " (JSON, WebSocket, ordering lane, host changes, durable topology save, reply).\n");
    }

    public static void main(String[] args) throws Exception {
        int[] sizes = args.length == 0 ? new int[]{10, 50, 100} : Arrays.stream(args).mapToInt(Integer::parseInt).toArray();
        List<String> javaOptions = Arrays.stream(System.getProperty("bench.agentJavaOpts", "").split("\\s+"))
                .filter(s -> !s.isEmpty()).toList();
        Bench bench = new Bench(javaOptions, System.getProperty("java.class.path"));
        Files.createDirectories(OUT);
        Files.deleteIfExists(bench.agentLog);
        int status = 0;
        try {
            bench.run(sizes);
        } catch (Exception | AssertionError e) {
            bench.report.note("The run stopped early: " + e);
            e.printStackTrace();
            status = 1;
        } finally {
            bench.report.write();
            TestAgent.wipeHost(OWNER, PORT_PREFIX, STATE_DIR);
        }
        System.out.println(Files.readString(OUT.resolve("report.md")));
        System.exit(status);
    }

    private void run(int[] sizes) throws Exception {
        // the benchmark agent's leftovers (exactly its own names; Incus cleans up its own objects)
        TestAgent.wipeHost(OWNER, PORT_PREFIX, STATE_DIR);
        IncusPeer incus = null;
        if (!Boolean.getBoolean("bench.noIncus")) {
            log("setting up Incus (scripts/bench-incus.sh setup)");
            incus = IncusPeer.setUp(Path.of("scripts/bench-incus.sh"));
            incusUnavailable = incus.unavailable;
            if (incusUnavailable != null) {
                log("Incus: " + incusUnavailable);
                incus = null;
            }
        } else {
            incusUnavailable = "skipped (-Dbench.noIncus=true)";
        }
        try {
            sideBySide(incus);
        } finally {
            if (incus != null) {
                incus.cleanUp();
            }
        }
        for (int n : sizes) {
            atSize(n, n == Arrays.stream(sizes).max().orElse(n));
        }
        targets(sizes);
        report.write();
    }

    // ---- 1 + 6: floor, and Add+Start next to the floor and to incus launch -----------------

    private void sideBySide(IncusPeer incus) throws Exception {
        log("floor and Add+Start side by side (" + ROUNDS + " rounds)");
        try (AgentProcess agent = startAgent(); AgentClient c = AgentClient.connect(agent.port())) {
            floor = new Floor(TestAgent.IMAGE_DIR.resolve("debian/trixie/rootfs"), STATE_DIR.resolve("floor"), OWNER);
            floor.measure(1, OP_SAMPLES); // warm-up cycle plus the nft and route samples
            Samples stop = new Samples();
            Samples remove = new Samples();
            Samples incusDelete = new Samples();
            Floor cycles = new Floor(TestAgent.IMAGE_DIR.resolve("debian/trixie/rootfs"), STATE_DIR.resolve("floor"), OWNER);
            Samples cold = new Samples(); // the agent's first: shown, not in the ratio
            cold.add(cycle(c, "bench-cold", 249, null, null));
            for (int w = 0; w < WARM_REQUESTS; w++) {
                must(c.call(request("Command").add("command", "version")));
            }
            cycle(c, "bench-warm", 250, null, null);
            if (incus != null) {
                incus.delete("ivbench-warm");
                incus.launch("ivbench-warm");
                incus.delete("ivbench-warm");
            }
            Samples added = new Samples(); // per round: the agent's Add+Start less the floor's
            for (int r = 0; r < ROUNDS; r++) {
                cycles.measure(1, 0);
                double agentMs = cycle(c, "bench-s" + r, 251 + r, stop, remove);
                agentAddStart.add(agentMs);
                added.add(agentMs - cycles.addStart.last());
                if (incus != null) {
                    incusLaunch.add(incus.launch("ivbench-" + r));
                    incusDelete.add(incus.delete("ivbench-" + r));
                }
            }
            floor = merge(floor, cycles);
            String t = "Floor: the raw primitives";
            report.table(t, "Driven directly with no agent (Floor.java): the same domain XML and image, "
                    + "libvirt-java in-process, one process per host command as the agent would spawn it. "
                    + ROUNDS + " container cycles, " + OP_SAMPLES + " element samples.", "primitive", "samples", "p50 ms", "p99 ms");
            floorRow(t, "overlay mount (mount -t overlay)", floor.mount);
            floorRow(t, "libvirt define (domainDefineXML)", floor.define);
            floorRow(t, "libvirt start (create, until init runs)", floor.start);
            floorRow(t, "mount + define + start", floor.addStart);
            floorRow(t, "graceful stop (SIGRTMIN+4 to init, until shut off)", floor.stop);
            floorRow(t, "undefine + umount + rm", floor.remove);
            floorRow(t, "nft add element (one nft process)", floor.nftAdd);
            floorRow(t, "nft delete element (one nft process)", floor.nftDelete);
            floorRow(t, "route add in a container's netns (nsenter ip route add)", floor.routeAdd);
            floorRow(t, "route del in a container's netns", floor.routeDelete);
            floorRow(t, "the same route changes in bulk, per change (ip -batch of " + Floor.BULK + " in one netns)", floor.routeBulk);
            floorRow(t, "/32 address add and del in bulk, per change (ip -batch of " + Floor.BULK + " in one netns)", floor.addressBulk);
            floorRow(t, "nft element changes in bulk, per change (nft -f of " + Floor.BULK + ")", floor.nftBulk);

            String s = "Add+Start: floor, agent, Incus";
            report.table(s, "Interleaved round by round in the same run (" + ROUNDS + " rounds, after one warm-up each and "
                    + WARM_REQUESTS + " `version` requests), "
                    + "no other containers running. Agent: AddContainer + StartContainer over the WebSocket. Incus "
                    + (incus == null ? "(not run: " + incusUnavailable + ")" : incus.version + ": `incus launch` of the same rootfs "
                    + "imported as an image, btrfs loop pool, one bridged NIC"), "what", "samples", "p50 ms", "p99 ms");
            floorRow(s, "floor: mount + define + start", floor.addStart);
            floorRow(s, "agent: AddContainer + StartContainer", agentAddStart);
            floorRow(s, "agent: its first AddContainer + StartContainer (before any warm-up; not in the ratio)", cold);
            floorRow(s, "the agent's Add+Start less the floor's, per round", added);
            floorRow(s, "agent: StopContainer", stop);
            floorRow(s, "agent: RemoveContainer", remove);
            if (incus != null) {
                floorRow(s, "incus launch", incusLaunch);
                floorRow(s, "incus delete -f", incusDelete);
            }
            report.row(s, "ratio agent / floor (p50)", "", agentAddStart.p50() / floor.addStart.p50(), "");
            if (incus != null) {
                report.row(s, "ratio incus / agent (p50)", "", incusLaunch.p50() / agentAddStart.p50(), "");
            }
        }
        report.write();
    }

    private static Floor merge(Floor elements, Floor cycles) {
        // container figures from the measured rounds, element figures from the first pass
        Floor f = cycles;
        copy(elements.nftAdd, f.nftAdd);
        copy(elements.nftDelete, f.nftDelete);
        copy(elements.routeAdd, f.routeAdd);
        copy(elements.routeDelete, f.routeDelete);
        copy(elements.routeBulk, f.routeBulk);
        copy(elements.addressBulk, f.addressBulk);
        copy(elements.nftBulk, f.nftBulk);
        return f;
    }

    private static void copy(Samples from, Samples to) {
        from.forEach(to::add);
    }

    /** Add + start (timed together), then stop and remove (timed separately if asked). */
    private double cycle(AgentClient c, String id, int index, Samples stop, Samples remove) {
        long t0 = System.nanoTime();
        must(c.call(addRequest(id, index)));
        must(c.call(request("StartContainer").add("id", id)));
        double ms = (System.nanoTime() - t0) / 1e6;
        long t1 = System.nanoTime();
        must(c.call(request("StopContainer").add("id", id)));
        if (stop != null) {
            stop.add((System.nanoTime() - t1) / 1e6);
        }
        long t2 = System.nanoTime();
        must(c.call(request("RemoveContainer").add("id", id)));
        if (remove != null) {
            remove.add((System.nanoTime() - t2) / 1e6);
        }
        return ms;
    }

    private void floorRow(String section, String what, Samples s) {
        report.row(section, what, s.count(), s.p50(), s.p99());
        report.measurement(section, 0, what, s);
    }

    // ---- 2, 3, 4, 5 at one size ----------------------------------------------------------

    private void atSize(int n, boolean largest) throws Exception {
        log("N = " + n);
        TestAgent.wipeHost(OWNER, PORT_PREFIX, STATE_DIR);
        Map<String, Samples> m = new LinkedHashMap<>();
        ops.put(n, m);
        long memBefore = memAvailableKiB();
        try (AgentProcess agent = startAgent(); AgentClient c = AgentClient.connect(agent.port())) {
            // topology build, phase 1: N added and started
            Samples add = sample(m, "AddContainer (while building)");
            Samples start = sample(m, "StartContainer (while building)");
            long b0 = System.nanoTime();
            for (int i = 0; i < n; i++) {
                add.add(timed(c, addRequest(id(i), i)));
                start.add(timed(c, request("StartContainer").add("id", id(i))));
            }
            double buildMs = (System.nanoTime() - b0) / 1e6;
            phase(n, "add + start " + n + " containers", buildMs);
            // StartContainer returns once init runs; the boots go on for seconds. Measure the
            // operations on a settled machine, not during 100 systemd boots.
            java.util.Set<String> states = new java.util.TreeSet<>();
            double settledMs = awaitBooted(n, states);
            phase(n, "all " + n + " systemd boots finished (systemctl is-system-running --wait: " + String.join(", ", states)
                    + "), after the last start", settledMs);
            double perContainerMiB = perContainerCgroupMiB(n);
            double perContainerAvailMiB = (memBefore - memAvailableKiB()) / 1024.0 / n;

            log("N = " + n + ": floor of the element primitives in bench-0");
            Floor el = Floor.elementsIn(Floor.initPid(OWNER + "-" + id(0)), OP_SAMPLES / 2);
            elementFloors.put(n, el);
            String ft = "Floor of the element primitives at each N";
            report.table(ft, "Measured again with N containers running (route changes in bench-0's namespace), so that "
                    + "agent/floor compares like with like.", "N", "primitive", "samples", "p50 ms", "p99 ms");
            for (Object[] row : new Object[][]{{"nft add element", el.nftAdd}, {"nft delete element", el.nftDelete},
                    {"route add in a netns", el.routeAdd}, {"route del in a netns", el.routeDelete},
                    {"route change in bulk (ip -batch), per change", el.routeBulk},
                    {"address change in bulk (ip -batch), per change", el.addressBulk},
                    {"nft element change in bulk (nft -f), per change", el.nftBulk}}) {
                Samples fs = (Samples) row[1];
                report.row(ft, n, row[0], fs.count(), fs.p50(), fs.p99());
                report.measurement("floor", n, (String) row[0], fs);
            }
            networkOps(c, agent.port(), n, m);
            containerOps(c, n, m);
            if (largest) {
                concurrency(agent.port(), n);
            }

            // phase 2: full mesh, then every link pinging
            long m0 = System.nanoTime();
            int links = mesh(c, n);
            double meshMs = (System.nanoTime() - m0) / 1e6;
            phase(n, "full mesh, " + links + " Connects (pipelined, window " + MESH_WINDOW + ")", meshMs);
            MeshPing.Result ping = MeshPing.check(probers(n), 120_000, 8);
            phase(n, "every link pinging (fping in each netns" + (ping.allPassed() ? "" : "; FAILED: " + ping.failing().size()
                    + " links, e.g. " + ping.failing().stream().limit(3).toList()) + ", " + ping.rounds() + " round(s))", ping.millis());
            phase(n, "mesh connected and pinging (after containers up)", ping.allPassed() ? meshMs + ping.millis() : Double.NaN);

            // footprint with the biggest topology of this size
            double rss = agent.rssMiB();
            double[] heap = agent.heapMiB();
            double rssAfterGc = agent.rssMiB();
            footprint.put(n, new double[]{rss, heap[0], heap[1], agent.peakRssMiB(), perContainerMiB, perContainerAvailMiB, rssAfterGc});
            String f = "Footprint";
            report.table(f, "Agent: VmRSS of the agent process with N containers and the full mesh (before and after a full GC), "
                    + "heap used/committed after that GC (jcmd GC.heap_info), peak RSS (VmHWM). Per container: the memory "
                    + "cgroup's usage (memory.usage_in_bytes, page cache of the overlay included) averaged over the N containers, "
                    + "and the drop of MemAvailable per container (noisy on a shared machine).",
                    "N", "agent RSS MiB", "RSS after GC MiB", "heap used MiB", "heap committed MiB", "peak RSS MiB",
                    "per container (cgroup) MiB", "per container (MemAvailable) MiB");
            report.row(f, n, rss, rssAfterGc, heap[0], heap[1], agent.peakRssMiB(), perContainerMiB, perContainerAvailMiB);

            // phase 3: wipe
            long w0 = System.nanoTime();
            must(c.call(request("Command").add("command", "wipe").build(), Duration.ofMinutes(10)));
            phase(n, "wipe (" + n + " containers, " + links + " links)", (System.nanoTime() - w0) / 1e6);
            wipeMs.put(n, (System.nanoTime() - w0) / 1e6);
            meshPingMs.put(n, ping.allPassed() ? meshMs + ping.millis() : Double.NaN);
            buildWallMs.put(n, buildMs);
        }
        opsTable(n, m);
        report.write();
    }

    /** Waits until systemd in every container has finished booting; returns the wall time. */
    private static double awaitBooted(int n, java.util.Set<String> states) throws Exception {
        long t0 = System.nanoTime();
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<dev.intervirt.agent.host.ProcessRunner.Result>> all = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                int pid = Floor.initPid(OWNER + "-" + id(i));
                all.add(pool.submit(() -> {
                    // early in boot systemd's bus socket is not there yet: ask again until it answers
                    long deadline = System.nanoTime() + 120_000_000_000L;
                    while (true) {
                        dev.intervirt.agent.host.ProcessRunner.Result r = dev.intervirt.agent.host.ProcessRunner.exec(List.of(
                                "nsenter", "-t", Integer.toString(pid), "-m", "-u", "-i", "-n", "-p", "-r", "-w", "--", "systemctl",
                                "is-system-running", "--wait"), null, 120);
                        if (!r.stdout().isBlank() || System.nanoTime() > deadline) {
                            return r;
                        }
                        AgentProcess.sleep(100);
                    }
                }));
            }
            for (Future<dev.intervirt.agent.host.ProcessRunner.Result> f : all) {
                dev.intervirt.agent.host.ProcessRunner.Result r = f.get();
                states.add(r.stdout().isBlank() ? "exit " + r.exitCode() + " " + r.stderr().strip() : r.stdout().strip());
            }
        } finally {
            pool.shutdownNow();
        }
        return (System.nanoTime() - t0) / 1e6;
    }

    private final Map<Integer, Double> wipeMs = new LinkedHashMap<>();
    /** Per N: nft and netns route primitives measured with N containers running. */
    private final Map<Integer, Floor> elementFloors = new LinkedHashMap<>();
    private final Map<Integer, Double> meshPingMs = new LinkedHashMap<>();
    private final Map<Integer, Double> buildWallMs = new LinkedHashMap<>();

    private void phase(int n, String what, double ms) {
        String t = "Topology build";
        report.table(t, "Wall time per phase. The mesh is sent as the client sends a switch: a Connect for every pair, "
                + "pipelined. Then every link is checked with one ping each way of the pair (fping in the lower end's netns, "
                + "8 containers at a time, failed links tried again).", "N", "phase", "wall s");
        report.row(t, n, what, ms / 1000);
        report.measurement("topology", n, what, ms);
    }

    private void networkOps(AgentClient c, int agentPort, int n, Map<String, Samples> m) {
        log("N = " + n + ": network operations, " + OP_SAMPLES + " samples each");
        Samples connect = sample(m, "Connect");
        Samples disconnect = sample(m, "Disconnect");
        for (int s = 0; s < OP_SAMPLES; s++) {
            int a = s % n;
            int b = (s * 7 + 1) % n;
            if (a == b) {
                b = (b + 1) % n;
            }
            connect.add(timed(c, request("Connect").add("id1", id(a)).add("id2", id(b))));
            disconnect.add(timed(c, request("Disconnect").add("id1", id(a)).add("id2", id(b))));
        }
        Samples setIp = sample(m, "SetIpv4");
        for (int s = 0; s < OP_SAMPLES; s++) {
            int k = s % n;
            setIp.add(timed(c, request("IDWithNewIpv4").add("id", id(k)).add("newIpv4", ipv4(k, s / n + 1))));
        }
        if (n > 5) {
            // the address of a container with 5 links: its peers' routes to it move as well
            for (int p = 1; p <= 5; p++) {
                must(c.call(request("Connect").add("id1", id(0)).add("id2", id(p))));
            }
            Samples setIpPeers = sample(m, "SetIpv4 (5 peers)");
            for (int s = 0; s < OP_SAMPLES; s++) {
                setIpPeers.add(timed(c, request("IDWithNewIpv4").add("id", id(0)).add("newIpv4", ipv4(0, 100 + s))));
            }
            for (int p = 1; p <= 5; p++) {
                must(c.call(request("Disconnect").add("id1", id(0)).add("id2", id(p))));
            }
        }
        Samples internet = sample(m, "SetInternetAccess");
        for (int s = 0; s < OP_SAMPLES; s++) {
            internet.add(timed(c, request("SetInternetAccess").add("id", id(s % n)).add("enabled", (s / n) % 2 == 0)));
        }
        Samples forward = sample(m, "AddPortForwarding");
        Samples unforward = sample(m, "RemovePortForwarding");
        for (int s = 0; s < OP_SAMPLES; s++) {
            int port = 20000 + s;
            if (port >= agentPort) {
                port++; // the agent's own port is refused (code 8): step over it
            }
            forward.add(timed(c, request("AddPortForwarding").add("id", id(s % n)).add("internalPort", 22).add("externalPort", port)
                    .add("protocol", "tcp")));
            unforward.add(timed(c, request("RemovePortForwarding").add("externalPort", port).add("protocol", "tcp")));
        }
        Samples version = sample(m, "version");
        for (int s = 0; s < OP_SAMPLES; s++) {
            version.add(timed(c, request("Command").add("command", "version")));
        }
    }

    private void containerOps(AgentClient c, int n, Map<String, Samples> m) {
        log("N = " + n + ": container operations, " + CYCLES + " cycles");
        Samples add = sample(m, "AddContainer");
        Samples start = sample(m, "StartContainer");
        Samples stop = sample(m, "StopContainer");
        Samples remove = sample(m, "RemoveContainer");
        for (int r = 0; r < CYCLES; r++) {
            String id = "bench-x" + r;
            add.add(timed(c, addRequest(id, 900 + r)));
            start.add(timed(c, request("StartContainer").add("id", id)));
            stop.add(timed(c, request("StopContainer").add("id", id)));
            remove.add(timed(c, request("RemoveContainer").add("id", id)));
        }
    }

    private int mesh(AgentClient c, int n) {
        log("N = " + n + ": full mesh");
        Deque<String> inFlight = new ArrayDeque<>();
        int links = 0;
        for (int a = 0; a < n; a++) {
            for (int b = a + 1; b < n; b++) {
                if (inFlight.size() >= MESH_WINDOW) {
                    must(c.awaitFinal(inFlight.poll(), Duration.ofMinutes(2), System.nanoTime()));
                }
                inFlight.add(c.send(request("Connect").add("id1", id(a)).add("id2", id(b))));
                links++;
            }
        }
        while (!inFlight.isEmpty()) {
            must(c.awaitFinal(inFlight.poll(), Duration.ofMinutes(2), System.nanoTime()));
        }
        return links;
    }

    private List<MeshPing.Prober> probers(int n) throws IOException {
        List<MeshPing.Prober> probers = new ArrayList<>();
        for (int a = 0; a < n; a++) {
            List<String> targets = new ArrayList<>();
            for (int b = a + 1; b < n; b++) {
                targets.add(ipv4(b, OP_SAMPLES / n + (b < OP_SAMPLES % n ? 1 : 0)));
            }
            probers.add(new MeshPing.Prober(id(a), Floor.initPid(OWNER + "-" + id(a)), targets));
        }
        return probers;
    }

    // ---- 5: concurrency -------------------------------------------------------------------

    private void concurrency(int port, int n) throws Exception {
        String t = "Concurrency";
        report.table(t, "At N = " + n + " running containers. Each client has its own WebSocket connection and sends one request "
                + "at a time. version: 200 per client. Connect/Disconnect: each client works on its own links (a Connect "
                + "then a Disconnect, 10 rounds).", "clients", "operation", "requests", "wall s", "throughput req/s", "p50 ms", "p99 ms");
        int pairs = n * (n - 1) / 2;
        for (int k : CLIENTS) {
            log("N = " + n + ": concurrency, " + k + " clients");
            runClients(t, port, k, "version", 200, (client, round) -> List.of(request("Command").add("command", "version")));
            if (k * 10 > pairs) {
                report.row(t, k, "Connect + Disconnect", "not run: " + pairs + " links < " + (k * 10), "", "", "", "");
                continue;
            }
            runClients(t, port, k, "Connect + Disconnect", 10, (client, round) -> {
                int[] p = pair(n, client + round * k);
                return List.of(request("Connect").add("id1", id(p[0])).add("id2", id(p[1])),
                        request("Disconnect").add("id1", id(p[0])).add("id2", id(p[1])));
            });
        }
    }

    private interface RequestsOf {
        List<JsonObjectBuilder> of(int client, int round);
    }

    private void runClients(String section, int port, int clients, String what, int rounds, RequestsOf requests) throws Exception {
        List<AgentClient> connections = new ArrayList<>();
        for (int i = 0; i < clients; i++) {
            connections.add(AgentClient.connect(port));
        }
        Samples latency = new Samples();
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        CountDownLatch go = new CountDownLatch(1);
        try {
            List<Future<Integer>> done = new ArrayList<>();
            for (int i = 0; i < clients; i++) {
                int client = i;
                done.add(pool.submit(() -> {
                    go.await();
                    int count = 0;
                    for (int r = 0; r < rounds; r++) {
                        for (JsonObjectBuilder req : requests.of(client, r)) {
                            latency.add(timed(connections.get(client), req));
                            count++;
                        }
                    }
                    return count;
                }));
            }
            long t0 = System.nanoTime();
            go.countDown();
            int total = 0;
            for (Future<Integer> f : done) {
                total += f.get();
            }
            double wall = (System.nanoTime() - t0) / 1e9;
            report.row(section, clients, what, total, wall, total / wall, latency.p50(), latency.p99());
            report.measurement("concurrency", clients, what, latency);
            throughput.put(what + "@" + clients, total / wall);
        } finally {
            pool.shutdownNow();
            connections.forEach(AgentClient::close);
        }
    }

    private final Map<String, Double> throughput = new LinkedHashMap<>();

    /** The k-th pair (a < b) of n containers. */
    private static int[] pair(int n, int k) {
        for (int a = 0; a < n; a++) {
            int row = n - 1 - a;
            if (k < row) {
                return new int[]{a, a + 1 + k};
            }
            k -= row;
        }
        throw new IllegalArgumentException("no pair " + k + " among " + n);
    }

    // ---- tables and targets ---------------------------------------------------------------

    private void opsTable(int n, Map<String, Samples> m) {
        String t = "Per operation over the WebSocket";
        report.table(t, "One request at a time, at N running containers (none linked, except the pair at hand). Container "
                + "operations: " + CYCLES + " cycles of an extra container (add, start, stop, remove); \"while building\": "
                + "the N containers of the topology. Network operations: " + OP_SAMPLES + " samples each. Floor: the raw "
                + "primitives the operation needs, the element ones measured again at this N in bench-0's namespace (Connect/Disconnect: 1 nft element + 2 netns routes; SetIpv4 with no "
                + "peers: 1 nft element + 2 routes (netns address, host route); SetInternetAccess: 1 nft element + 1 netns "
                + "route; port forwards: 1 nft element; Add/Start/Stop/Remove: the floor rows of the same name).",
                "N", "operation", "samples", "p50 ms", "p99 ms", "max ms", "floor p50 ms", "agent/floor");
        for (Map.Entry<String, Samples> e : m.entrySet()) {
            Samples s = e.getValue();
            double fl = floorOf(e.getKey(), n);
            report.row(t, n, e.getKey(), s.count(), s.p50(), s.p99(), s.max(), fl, Double.isNaN(fl) ? Double.NaN : s.p50() / fl);
            report.measurement("ops", n, e.getKey(), s);
        }
    }

    private double floorOf(String op, int n) {
        if (floor == null) {
            return Double.NaN;
        }
        Floor el = elementFloors.getOrDefault(n, floor);
        double nft = el.nftAdd.p50();
        double nftDel = el.nftDelete.p50();
        double route = el.routeAdd.p50();
        double routeDel = el.routeDelete.p50();
        return switch (op) {
            case "Connect" -> nft + 2 * route;
            case "Disconnect" -> nftDel + 2 * routeDel;
            case "SetIpv4" -> nft + 2 * route;
            case "SetIpv4 (5 peers)" -> nft + 7 * route;
            case "SetInternetAccess" -> nft + route;
            case "AddPortForwarding" -> nft;
            case "RemovePortForwarding" -> nftDel;
            case "AddContainer", "AddContainer (while building)" -> floor.define.p50();
            case "StartContainer", "StartContainer (while building)" -> floor.mount.p50() + floor.start.p50();
            case "StopContainer" -> floor.stop.p50();
            case "RemoveContainer" -> floor.remove.p50();
            default -> Double.NaN;
        };
    }

    /**
     * The kernel changes an operation makes, each at its bulk price (no process start-up),
     * counted from what the agent sends: nft set elements (a link is one element per
     * direction; internet access one per address family; an address change takes one out and
     * puts one in), routes in the namespaces and on the host, the container's own addresses.
     */
    private double amortisedFloor(String op, int n) {
        if (floor == null) {
            return Double.NaN;
        }
        Floor el = elementFloors.getOrDefault(n, floor);
        double nft = el.nftBulk.p50();
        double route = el.routeBulk.p50();
        double address = el.addressBulk.p50();
        return switch (op) {
            case "Connect", "Disconnect" -> 2 * nft + 4 * route; // both directions; v4 and v6 route at each end
            case "SetIpv4" -> 2 * nft + 2 * route + 2 * address; // port_ipv4 old out, new in; host route moved; address swapped
            case "SetIpv4 (5 peers)" -> 2 * nft + 12 * route + 2 * address; // and each peer's IPv4 route moved
            case "SetInternetAccess" -> 2 * nft + 2 * route; // internet4 and internet6; the two default routes
            default -> Double.NaN;
        };
    }

    private void targets(int[] sizes) {
        int big = Arrays.stream(sizes).max().orElse(0);
        double addStart = agentAddStart.p50() / 1000;
        report.target("Add+Start p50", addStart, "s", "<= 0.25", addStart <= 0.25);
        double ratio = agentAddStart.p50() / floor.addStart.p50();
        report.target("Add+Start p50 / floor p50", ratio, "x", "<= 1.2", ratio <= 1.2);
        if (incusLaunch.count() > 0) {
            double speedup = incusLaunch.p50() / agentAddStart.p50();
            report.target("incus launch p50 / agent Add+Start p50", speedup, "x", ">= 2.5", speedup >= 2.5);
        } else {
            report.target("incus launch p50 / agent Add+Start p50", Double.NaN, "x", ">= 2.5", null);
            report.note("Incus was not measured: " + incusUnavailable);
        }
        Map<String, Samples> atBig = ops.get(big);
        for (String op : NETWORK_OPS) {
            Samples s = atBig.get(op);
            if (s == null) {
                continue;
            }
            double p50 = P50_TARGETS.get(op);
            double p99 = op.startsWith("AddPort") ? 25 : 5;
            report.target(op + " p50 at N=" + big, s.p50(), "ms", "<= " + (int) p50, s.p50() <= p50);
            report.target(op + " p99 at N=" + big, s.p99(), "ms", "<= " + (int) p99, s.p99() <= p99);
            double kernel = amortisedFloor(op, big);
            if (!Double.isNaN(kernel) && atBig.get("version") != null) {
                double bound = 3 * kernel + atBig.get("version").p50();
                report.target(op + " p50 at N=" + big + " vs 3 x amortised kernel floor + version p50", s.p50(), "ms",
                        String.format(Locale.ROOT, "<= %.3g", bound), s.p50() <= bound);
            }
            int small = Arrays.stream(sizes).min().orElse(big);
            if (small != big && ops.get(small).get(op) != null) {
                // flat: the largest N no more than 1.5x the smallest (+0.5 ms of noise allowance)
                double growth = s.p50() / ops.get(small).get(op).p50();
                report.target(op + " p50 N=" + big + " / N=" + small, growth, "x", "<= 1.5 (flat in N)",
                        s.p50() <= 1.5 * ops.get(small).get(op).p50() + 0.5);
            }
        }
        double mesh = meshPingMs.getOrDefault(big, Double.NaN) / 1000;
        report.target("full mesh of " + big + " (" + big * (big - 1) / 2 + " links) connected and pinging", mesh, "s", "<= 45",
                Double.isNaN(mesh) ? Boolean.FALSE : mesh <= 45);
        double wipe = wipeMs.getOrDefault(big, Double.NaN) / 1000;
        report.target("wipe of " + big + " containers", wipe, "s", "<= 15", wipe <= 15);
        double rss = footprint.get(big)[0];
        report.target("agent RSS at N=" + big, rss, "MiB", "<= 150", rss <= 150);
        double listening = startToListening.p50() / 1000;
        report.target("agent start to listening (p50 of " + startToListening.count() + ")", listening, "s", "<= 2", listening <= 2);
        if (big != 100) {
            report.note("The targets are stated for N = 100; this run's largest N is " + big + ".");
        }
    }

    // ---- helpers --------------------------------------------------------------------------

    private AgentProcess startAgent() throws IOException {
        int port = dev.intervirt.agent.support.AgentPorts.free();
        List<String> args = new ArrayList<>(List.of("--port", Integer.toString(port), "--state-dir", STATE_DIR.toString(),
                "--image-dir", TestAgent.IMAGE_DIR.toString(), "--bridge", BRIDGE, "--owner-name", OWNER, "--port-prefix", PORT_PREFIX,
                "--memory-mib", "256", "--pids-max", "512",
                // Only the images already in the store: no image server, no background prefetch.
                "--image-server", "none", "--prefetch-images", ""));
        if (Boolean.getBoolean("bench.debug")) {
            args.add("--debug");
        }
        Files.writeString(agentLog, "---- agent start " + Instant.now() + "\n", java.nio.file.StandardOpenOption.CREATE,
                java.nio.file.StandardOpenOption.APPEND);
        AgentProcess agent = AgentProcess.start(javaOptions, classpath, args, port, agentLog);
        startToListening.add(agent.startToListeningMs);
        return agent;
    }

    private static Samples sample(Map<String, Samples> m, String op) {
        return m.computeIfAbsent(op, k -> new Samples());
    }

    private static JsonObjectBuilder addRequest(String id, int i) {
        return request("AddContainer").add("id", id).add("ipv4", ipv4(i, 0)).add("ipv6", "fd00:b::" + Integer.toHexString(i + 1))
                .add("mac", String.format("02:00:00:00:%02x:%02x", i / 256, i % 256)).add("internet", false).add("image", "debian/13");
    }

    static String id(int i) {
        return "bench-" + i;
    }

    /** Distinct /24s so links always cross subnets; {@code v} varies the host part. */
    static String ipv4(int i, int v) {
        return "10." + (i / 200 + 1) + "." + (i % 200) + "." + (v % 250 + 1);
    }

    private static double timed(AgentClient c, JsonObjectBuilder req) {
        long t0 = System.nanoTime();
        must(c.call(req));
        return (System.nanoTime() - t0) / 1e6;
    }

    private static void must(Exchange x) {
        if (!x.ok()) {
            throw new IllegalStateException("request failed: " + x);
        }
    }

    private static double perContainerCgroupMiB(int n) {
        double total = 0;
        int counted = 0;
        for (int i = 0; i < n; i++) {
            try {
                int pid = Floor.initPid(OWNER + "-" + id(i));
                for (String line : Files.readAllLines(Path.of("/proc", Integer.toString(pid), "cgroup"))) {
                    String[] f = line.split(":", 3);
                    Path file = null;
                    if (Arrays.asList(f[1].split(",")).contains("memory")) {
                        file = Path.of("/sys/fs/cgroup/memory" + f[2], "memory.usage_in_bytes");
                    } else if (f[0].equals("0") && f[1].isEmpty() && !Files.isDirectory(Path.of("/sys/fs/cgroup/memory"))) {
                        file = Path.of("/sys/fs/cgroup" + f[2], "memory.current");
                    }
                    if (file != null && Files.isReadable(file)) {
                        total += Long.parseLong(Files.readString(file).trim());
                        counted++;
                        break;
                    }
                }
            } catch (IOException | RuntimeException e) {
                // not counted
            }
        }
        return counted == 0 ? Double.NaN : total / counted / (1 << 20);
    }

    private static long memAvailableKiB() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
            if (line.startsWith("MemAvailable:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        return 0;
    }

    private static String hostLine() {
        try {
            String model = Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name")).findFirst()
                    .map(l -> l.substring(l.indexOf(':') + 1).strip()).orElse("?");
            return Runtime.getRuntime().availableProcessors() + " CPUs (" + model + "), kernel " + Files.readString(
                    Path.of("/proc/sys/kernel/osrelease")).strip() + ", Java " + System.getProperty("java.version")
                    + ", cgroup2 options " + dev.intervirt.agent.host.MountTable.read().stream()
                    .filter(m -> m.type().equals("cgroup2")).findFirst().map(m -> String.join(",", m.superOptions())).orElse("(none)")
                    + " (the agent adds favordynmods)";
        } catch (IOException e) {
            return "?";
        }
    }

    private static void log(String what) {
        System.err.println(String.format(Locale.ROOT, "bench: %s", what));
    }

}
