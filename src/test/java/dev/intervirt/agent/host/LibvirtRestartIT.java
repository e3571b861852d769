package dev.intervirt.agent.host;

import dev.intervirt.agent.support.AgentClient.Exchange;
import dev.intervirt.agent.support.HostAudit;
import dev.intervirt.agent.support.HostCommands;
import dev.intervirt.agent.support.LiveAgent;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;

import static dev.intervirt.agent.support.AgentClient.request;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The shared libvirtd is stopped and started again (as scripts/start-libvirtd.sh starts it)
 * while requests are in flight: during the outage requests that need libvirt fail fast with
 * code 4 and say so, the agent reconnects by itself, and nothing is lost.
 */
class LibvirtRestartIT {

    @RegisterExtension
    static final LiveAgent live = new LiveAgent();

    @BeforeAll
    static void start() {
        live.start();
        for (int i = 2; i <= 3; i++) {
            live.ok(request("AddContainer").add("id", "lr" + i).add("ipv4", "10.58.0." + i).add("ipv6", "fd58::" + i)
                    .add("mac", "02:58:00:00:00:0" + i).add("internet", false).add("image", "debian/13"));
        }
        live.ok(request("StartContainer").add("id", "lr2"));
        live.ok(request("Connect").add("id1", "lr2").add("id2", "lr3"));
    }

    @Test
    void requestsDuringALibvirtdRestartFailFastAndTheAgentReconnects() throws Exception {
        AtomicBoolean outage = new AtomicBoolean();
        AtomicBoolean running = new AtomicBoolean(true);
        List<String> problems = new ArrayList<>();
        Map<Integer, Integer> codes = new TreeMap<>();
        long[] slowest = {0};
        // Requests in flight all along: container starts/stops (libvirt) and links (no libvirt).
        Thread load = new Thread(() -> {
            boolean startNext = true;
            while (running.get()) {
                Exchange x = live.client().call((startNext ? request("StartContainer") : request("StopContainer")).add("id", "lr3")
                        .build(), Duration.ofSeconds(30));
                synchronized (codes) {
                    codes.merge(x.code(), 1, Integer::sum);
                    slowest[0] = Math.max(slowest[0], x.millis());
                    if (x.code() != 0 && x.code() != 4 && x.code() != 3) {
                        problems.add("start/stop: " + x);
                    }
                }
                if (x.ok() || x.code() == 3) {
                    startNext = !startNext;
                }
                Exchange link = live.client().call(request("Disconnect").add("id1", "lr2").add("id2", "lr3").build(), Duration.ofSeconds(30));
                Exchange back = live.client().call(request("Connect").add("id1", "lr2").add("id2", "lr3").build(), Duration.ofSeconds(30));
                // Links need libvirt only to learn whether a container runs (when its init is not cached).
                for (Exchange l : List.of(link, back)) {
                    if (l.code() != 0 && l.code() != 3 && l.code() != 4) {
                        synchronized (codes) {
                            problems.add("link: " + l);
                        }
                    }
                }
            }
        }, "load");
        load.start();
        Thread.sleep(1500);

        long t0 = System.nanoTime();
        stopLibvirtd();
        outage.set(true);
        Exchange during = live.client().call(request("StartContainer").add("id", "lr3").build(), Duration.ofSeconds(30));
        if (during.code() == 3) {
            during = live.client().call(request("StopContainer").add("id", "lr3").build(), Duration.ofSeconds(30));
        }
        assertEquals(4, during.code(), during::toString);
        assertTrue(during.error().toLowerCase().contains("libvirt"), during::toString);
        assertTrue(during.millis() < 5000, "fails fast: " + during.millis() + " ms");
        HostCommands.ok("bash", "scripts/start-libvirtd.sh");
        long outageMs = (System.nanoTime() - t0) / 1_000_000;

        // The watchdog reconnects without a request; then libvirt requests work again.
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        Exchange after;
        do {
            Thread.sleep(200);
            after = live.client().call(request("StopContainer").add("id", "lr2").build(), Duration.ofSeconds(30));
        } while (after.code() == 4 && System.nanoTime() < deadline);
        assertTrue(after.ok(), after::toString);
        live.ok(request("StartContainer").add("id", "lr2"));
        long recoveredMs = (System.nanoTime() - t0) / 1_000_000;
        Thread.sleep(1000);
        running.set(false);
        load.join(60_000);
        assertFalse(load.isAlive(), "no request hung");
        synchronized (codes) {
            assertEquals(List.of(), problems);
        }
        // Let a start or stop that was in flight settle, then the host must match the stored state.
        List<String> diffs = List.of();
        for (int i = 0; i < 20; i++) {
            diffs = HostAudit.ofTestAgent().differences();
            if (diffs.isEmpty()) {
                break;
            }
            Thread.sleep(250);
        }
        assertEquals(List.of(), diffs, "nothing lost, nothing leaked");
        System.out.printf("LibvirtRestartIT: libvirtd down for %d ms, requests working again %d ms after the stop;"
                        + " start/stop replies by code %s (slowest %d ms); a request during the outage: code 4 in %d ms%n",
                outageMs, recoveredMs, codes, slowest[0], during.millis());
    }

    /** Stops libvirtd (running containers stay up, as with a daemon restart) and waits until it is gone. */
    private static void stopLibvirtd() throws InterruptedException {
        String pid = HostCommands.ok("pidof", "libvirtd").trim().split("\\s+")[0];
        HostCommands.ok("kill", pid);
        for (int i = 0; i < 100 && HostCommands.sh("kill", "-0", pid).ok(); i++) {
            Thread.sleep(100);
        }
        assertFalse(HostCommands.sh("kill", "-0", pid).ok(), "libvirtd stopped");
    }
}
