package dev.intervirt.agent.bench;

import dev.intervirt.agent.app.AgentConfig;
import dev.intervirt.agent.app.AgentServer;
import dev.intervirt.agent.support.AgentClient;
import dev.intervirt.agent.support.AgentClient.Exchange;
import dev.intervirt.agent.support.TestAgent;
import jakarta.json.JsonObjectBuilder;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

import static dev.intervirt.agent.support.AgentClient.request;

/**
 * Network operation latency over a real WebSocket against a real agent with N running
 * containers: Connect, Disconnect, SetIpv4, SetInternetAccess (p50/p99), and the wall time of a
 * full mesh of links. Not a test: run by {@code ./intervirt bench}; writes
 * {@code target/bench/network.md} and {@code target/bench/network.csv}.
 *
 * <p>Usage: {@code NetworkBench [N ...]} (default 10 50).
 */
public final class NetworkBench {

    static final String OWNER = "ivbench";
    static final String PORT_PREFIX = "ivb";
    static final Path STATE_DIR = Path.of("/var/lib/intervirt-bench");
    static final int SAMPLES = 200;

    private final List<String> csv = new ArrayList<>();
    private final StringBuilder md = new StringBuilder();

    public static void main(String[] args) throws Exception {
        int[] sizes = args.length == 0 ? new int[]{10, 50} : Arrays.stream(args).mapToInt(Integer::parseInt).toArray();
        NetworkBench bench = new NetworkBench();
        bench.md.append("# Network operations over WebSocket\n\n")
                .append("| N | operation | samples | p50 ms | p99 ms | max ms |\n|---|---|---|---|---|---|\n");
        bench.csv.add("n,metric,samples,p50_ms,p99_ms,max_ms");
        for (int n : sizes) {
            bench.run(n);
        }
        Path out = Path.of("target/bench");
        Files.createDirectories(out);
        Files.writeString(out.resolve("network.md"), bench.md.toString());
        Files.writeString(out.resolve("network.csv"), String.join("\n", bench.csv) + "\n");
        System.out.println(bench.md);
        System.exit(0);
    }

    private void run(int n) throws Exception {
        TestAgent.wipeHost(OWNER, PORT_PREFIX, STATE_DIR);
        AgentConfig config = new AgentConfig(freePort(), "lxc:///system", STATE_DIR, TestAgent.IMAGE_DIR, "ivbbr0", OWNER,
                PORT_PREFIX, 256, 512, Duration.ofSeconds(10), AgentConfig.DEFAULT_MAX_MESSAGE_BYTES, Boolean.getBoolean("bench.debug"), java.util.List.of(),
                java.util.List.of(), java.util.List.of(), dev.intervirt.agent.image.ImageSettings.localOnly());
        AgentServer server = new AgentServer(config);
        server.start();
        try (AgentClient c = AgentClient.connect(config.port())) {
            long t0 = System.nanoTime();
            for (int i = 0; i < n; i++) {
                must(c.call(request("AddContainer").add("id", id(i)).add("ipv4", ipv4(i, 0)).add("ipv6", "fd00:b::" + Integer.toHexString(i + 1))
                        .add("mac", String.format("02:00:00:00:%02x:%02x", i / 256, i % 256)).add("internet", false)
                        .add("image", "debian/13")));
                must(c.call(request("StartContainer").add("id", id(i))));
            }
            row(n, "add+start all (s)", 1, (System.nanoTime() - t0) / 1e9 * 1000);
            double[] connect = new double[SAMPLES];
            double[] disconnect = new double[SAMPLES];
            for (int s = 0; s < SAMPLES; s++) {
                int a = s % n;
                int b = (s * 7 + 1) % n;
                if (a == b) {
                    b = (b + 1) % n;
                }
                connect[s] = timed(c, request("Connect").add("id1", id(a)).add("id2", id(b)));
                disconnect[s] = timed(c, request("Disconnect").add("id1", id(a)).add("id2", id(b)));
            }
            stats(n, "Connect", connect);
            stats(n, "Disconnect", disconnect);
            double[] setIpAlone = new double[SAMPLES];
            for (int s = 0; s < SAMPLES; s++) {
                setIpAlone[s] = timed(c, request("IDWithNewIpv4").add("id", id(0)).add("newIpv4", ipv4(0, s + 1)));
            }
            stats(n, "SetIpv4 (0 peers)", setIpAlone);
            // Give container 0 some peers so SetIpv4 has routes to move in them.
            for (int p = 1; p <= Math.min(5, n - 1); p++) {
                must(c.call(request("Connect").add("id1", id(0)).add("id2", id(p))));
            }
            double[] setIp = new double[SAMPLES];
            for (int s = 0; s < SAMPLES; s++) {
                setIp[s] = timed(c, request("IDWithNewIpv4").add("id", id(0)).add("newIpv4", ipv4(0, s + 2)));
            }
            stats(n, "SetIpv4 (5 peers)", setIp);
            double[] internet = new double[SAMPLES];
            for (int s = 0; s < SAMPLES; s++) {
                internet[s] = timed(c, request("SetInternetAccess").add("id", id(1)).add("enabled", s % 2 == 0));
            }
            stats(n, "SetInternetAccess", internet);
            double[] version = new double[SAMPLES];
            for (int s = 0; s < SAMPLES; s++) {
                version[s] = timed(c, request("Command").add("command", "version"));
            }
            stats(n, "version", version);
            for (int p = 1; p <= Math.min(5, n - 1); p++) {
                must(c.call(request("Disconnect").add("id1", id(0)).add("id2", id(p))));
            }
            long m0 = System.nanoTime();
            int links = 0;
            for (int a = 0; a < n; a++) {
                for (int b = a + 1; b < n; b++) {
                    must(c.call(request("Connect").add("id1", id(a)).add("id2", id(b))));
                    links++;
                }
            }
            row(n, "full mesh, " + links + " Connects (total ms)", 1, (System.nanoTime() - m0) / 1e6);
            long w0 = System.nanoTime();
            Exchange wipe = c.call(request("Command").add("command", "wipe").build(), Duration.ofMinutes(10));
            must(wipe);
            row(n, "wipe (total ms)", 1, (System.nanoTime() - w0) / 1e6);
        } finally {
            server.stop();
            TestAgent.wipeHost(OWNER, PORT_PREFIX, STATE_DIR);
        }
    }

    private static String id(int i) {
        return "bench-" + i;
    }

    /** Distinct /24s so links always cross subnets; {@code v} varies the host part. */
    private static String ipv4(int i, int v) {
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

    private void stats(int n, String op, double[] ms) {
        double[] s = ms.clone();
        Arrays.sort(s);
        double p50 = s[(int) Math.floor(0.50 * (s.length - 1))];
        double p99 = s[(int) Math.floor(0.99 * (s.length - 1))];
        md.append(String.format(Locale.ROOT, "| %d | %s | %d | %.2f | %.2f | %.2f |%n", n, op, s.length, p50, p99, s[s.length - 1]));
        csv.add(String.format(Locale.ROOT, "%d,%s,%d,%.3f,%.3f,%.3f", n, op, s.length, p50, p99, s[s.length - 1]));
    }

    private void row(int n, String what, int samples, double ms) {
        md.append(String.format(Locale.ROOT, "| %d | %s | %d | %.1f | | |%n", n, what, samples, ms));
        csv.add(String.format(Locale.ROOT, "%d,%s,%d,%.3f,,", n, what, samples, ms));
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
