package dev.intervirt.agent.dispatch;

import dev.intervirt.agent.support.AgentClient;
import dev.intervirt.agent.support.HostAudit;
import dev.intervirt.agent.support.LiveAgent;
import jakarta.json.JsonObjectBuilder;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.intervirt.agent.support.AgentClient.request;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Twenty WebSocket clients each pipeline a hundred random operations on a few shared containers
 * (two of them running, so namespaces change too): every request gets exactly one final reply
 * under its own refID, nothing hangs, requests on one container run in the order received, and
 * afterwards the host equals the stored state.
 */
class ConcurrencyIT {

    private static final long SEED = Long.getLong("intervirt.test.seed", 777L);
    private static final int CLIENTS = Integer.getInteger("intervirt.test.clients", 20);
    private static final int OPS = Integer.getInteger("intervirt.test.opsPerClient", 100);
    private static final List<String> IDS = List.of("cc1", "cc2", "cc3", "cc4", "cc5", "cc6");
    private static final Set<Integer> EXPECTED_CODES = Set.of(0, 3, 6, 8);

    @RegisterExtension
    static final LiveAgent live = new LiveAgent();

    @BeforeAll
    static void start() {
        live.start();
        try (AgentClient c = live.agent().client()) {
            for (int i = 0; i < IDS.size(); i++) {
                assertTrue(c.call(add(IDS.get(i), i)).ok());
            }
            assertTrue(c.call(add("ccs", 9)).ok());
            assertTrue(c.call(request("StartContainer").add("id", "cc1")).ok());
            assertTrue(c.call(request("StartContainer").add("id", "cc2")).ok());
        }
    }

    private static JsonObjectBuilder add(String id, int n) {
        return request("AddContainer").add("id", id).add("ipv4", "10.55.0." + (n + 2)).add("ipv6", "fd55::" + (n + 2))
                .add("mac", String.format("02:55:00:00:00:%02x", n + 2)).add("internet", false).add("image", "debian/13");
    }

    @Test
    void twentyClientsPipeliningAHundredOperationsEach() throws Exception {
        Map<Integer, AtomicInteger> codes = new ConcurrentHashMap<>();
        long t0 = System.nanoTime();
        ExecutorService pool = Executors.newFixedThreadPool(CLIENTS);
        List<Future<?>> done = new ArrayList<>();
        for (int c = 0; c < CLIENTS; c++) {
            int client = c;
            done.add(pool.submit(() -> runClient(client, codes)));
        }
        pool.shutdown();
        for (Future<?> f : done) {
            f.get(5, TimeUnit.MINUTES); // a deadlock shows as a timeout here
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        int total = codes.values().stream().mapToInt(AtomicInteger::get).sum();
        System.out.printf("ConcurrencyIT: %d clients x %d operations (+20 ordered), %d replies, codes %s, %.1f s (%.0f ops/s)%n",
                CLIENTS, OPS, total, codes, seconds, total / seconds);
        assertEquals(CLIENTS * OPS + 20, total);
        assertEquals("10.55.1.20", HostAudit.ofTestAgent().stored().containers().stream()
                .filter(c -> c.id().equals("ccs")).findFirst().orElseThrow().ipv4(), "the last of the ordered changes won");
        assertEquals(List.of(), HostAudit.ofTestAgent().differences(), "host == stored state");
    }

    private static void runClient(int client, Map<Integer, AtomicInteger> codes) {
        Random rnd = new Random(SEED + client);
        try (AgentClient c = live.agent().client()) {
            List<String> uuids = new ArrayList<>();
            List<String> ordered = new ArrayList<>();
            for (int i = 0; i < OPS; i++) {
                uuids.add(c.send(randomOp(rnd)));
                if (client == 0 && i % 5 == 0) {
                    // Twenty address changes of one container, interleaved with everything else.
                    ordered.add(c.send(request("IDWithNewIpv4").add("id", "ccs").add("newIpv4", "10.55.1." + (i / 5 + 1))));
                }
            }
            for (String uuid : uuids) {
                record(codes, c, uuid);
            }
            for (String uuid : ordered) {
                assertEquals(0, record(codes, c, uuid), "each ordered change applies (none overtakes another)");
            }
            sleepQuietly(100);
            assertEquals(0, c.pending(), "no reply with a foreign or repeated refID");
        }
    }

    private static int record(Map<Integer, AtomicInteger> codes, AgentClient c, String uuid) {
        AgentClient.Exchange x = c.awaitFinal(uuid, Duration.ofSeconds(120), System.nanoTime());
        assertEquals(uuid, x.last().getString("refID"));
        assertTrue(EXPECTED_CODES.contains(x.code()), x::toString);
        codes.computeIfAbsent(x.code(), k -> new AtomicInteger()).incrementAndGet();
        return x.code();
    }

    private static JsonObjectBuilder randomOp(Random rnd) {
        String a = IDS.get(rnd.nextInt(IDS.size()));
        String b = IDS.get(rnd.nextInt(IDS.size()));
        int k = rnd.nextInt(100);
        if (k < 25) {
            return request("Connect").add("id1", a).add("id2", b);
        } else if (k < 45) {
            return request("Disconnect").add("id1", a).add("id2", b);
        } else if (k < 55) {
            return request("SetInternetAccess").add("id", a).add("enabled", rnd.nextBoolean());
        } else if (k < 65) {
            return request("IDWithNewIpv4").add("id", a).add("newIpv4", "10.56.0." + (2 + rnd.nextInt(30)));
        } else if (k < 72) {
            return request("IDWithNewIpv6").add("id", a).add("newIpv6", "fd56::" + (2 + rnd.nextInt(30)));
        } else if (k < 82) {
            return request("AddPortForwarding").add("id", a).add("internalPort", 80).add("externalPort", 31000 + rnd.nextInt(20))
                    .add("protocol", rnd.nextBoolean() ? "tcp" : "udp");
        } else if (k < 92) {
            return request("RemovePortForwarding").add("externalPort", 31000 + rnd.nextInt(20))
                    .add("protocol", rnd.nextBoolean() ? "tcp" : "udp");
        } else if (k < 94) {
            return request(rnd.nextBoolean() ? "StartContainer" : "StopContainer").add("id", "cc3");
        } else if (k < 96) {
            return request("Connect").add("id1", a).add("id2", "nobody");
        }
        return request("Command").add("command", "version");
    }

    private static void sleepQuietly(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
