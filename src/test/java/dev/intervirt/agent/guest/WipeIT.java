package dev.intervirt.agent.guest;

import dev.intervirt.agent.support.AgentClient.Exchange;
import dev.intervirt.agent.support.LiveAgent;
import dev.intervirt.agent.support.TestAgent;
import jakarta.json.JsonObject;
import jakarta.json.JsonObjectBuilder;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static dev.intervirt.agent.support.AgentClient.request;
import static dev.intervirt.agent.support.HostCommands.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * wipe on real containers: running and stopped ones, with links, a port forward and internet
 * access, all removed in one request (in parallel, hard-stopped), with progress; nothing left
 * of any of them on the host; the agent serves new containers afterwards and a second wipe
 * has nothing to do.
 */
class WipeIT {

    @RegisterExtension
    static final LiveAgent live = new LiveAgent();

    @BeforeAll
    static void start() {
        live.start();
    }

    private static JsonObjectBuilder add(String id, int i) {
        return request("AddContainer").add("id", id).add("ipv4", "10.77." + i + ".5").add("ipv6", "fd77::" + (i + 1))
                .add("mac", "02:77:00:00:00:0" + i).add("internet", i == 2).add("image", "debian/13");
    }

    private static void must(Exchange x) {
        assertTrue(x.ok(), x::toString);
    }

    @Test
    void wipeRemovesEveryContainerWithItsNetworkAndLeavesNothing() throws IOException {
        List<String> ids = List.of("wipe-a", "wipe-b", "wipe-c", "wipe-d");
        List<String> ports = new ArrayList<>();
        for (int i = 0; i < ids.size(); i++) {
            must(live.client().call(add(ids.get(i), i)));
            if (i < 3) {
                must(live.client().call(request("StartContainer").add("id", ids.get(i))));
            }
            ports.add(hostPort(live.agent().domain(ids.get(i))));
        }
        must(live.client().call(request("Connect").add("id1", "wipe-a").add("id2", "wipe-b")));
        must(live.client().call(request("Connect").add("id1", "wipe-b").add("id2", "wipe-c")));
        must(live.client().call(request("Connect").add("id1", "wipe-c").add("id2", "wipe-d")));
        must(live.client().call(request("AddPortForwarding").add("id", "wipe-a").add("internalPort", 22).add("externalPort", 42022)
                .add("protocol", "tcp")));
        assertTrue(routesOnBridge().contains("10.77.0.5"), "a host route exists before the wipe");

        long t0 = System.nanoTime();
        Exchange wipe = live.client().call(request("Command").add("command", "wipe").build(), Duration.ofMinutes(2));
        long ms = (System.nanoTime() - t0) / 1_000_000;
        must(wipe);
        // hard stops in parallel: well under one graceful stop per container (~0.4 s each, up to the grace)
        assertTrue(ms < 10_000, "wipe took " + ms + " ms");
        assertFalse(wipe.progress().isEmpty(), "wipe streams progress");
        double last = -1;
        for (JsonObject p : wipe.progress()) {
            double v = p.getJsonNumber("progress").doubleValue();
            assertTrue(v >= last, "progress rises: " + wipe.progress());
            last = v;
        }
        assertTrue(wipe.progress().stream().anyMatch(p -> p.getString("output").contains("Wipe finished: 4")), wipe::toString);

        for (int i = 0; i < ids.size(); i++) {
            String id = ids.get(i);
            assertFalse(domainExists(live.agent().domain(id)), id + ": domain undefined");
            assertFalse(Files.exists(TestAgent.STATE_DIR.resolve("containers").resolve(id)), id + ": files deleted");
            assertFalse(isMountedUnder(TestAgent.STATE_DIR.resolve("containers").resolve(id)), id + ": no mount left");
            assertFalse(linkExists(ports.get(i)), id + ": no veth left");
        }
        String tables = sh("nft", "list", "table", "bridge", TestAgent.OWNER).stdout() + sh("nft", "list", "table", "inet",
                TestAgent.OWNER).stdout();
        for (String port : ports) {
            assertFalse(tables.contains("\"" + port + "\""), "no firewall element names " + port);
        }
        assertFalse(tables.contains("10.77."), "no firewall element names an address: " + tables);
        assertFalse(tables.contains("42022"), "the forward is gone");
        assertFalse(routesOnBridge().contains("10.77."), "no host route left: " + routesOnBridge());
        var stored = new dev.intervirt.agent.state.StateStore(TestAgent.STATE_DIR).load();
        assertEquals(List.of(), java.util.Objects.requireNonNullElse(stored.containers(), List.of()), "no container stored");
        assertEquals(List.of(), java.util.Objects.requireNonNullElse(stored.links(), List.of()), "no link stored (snapshot and journal)");
        assertEquals(List.of(), java.util.Objects.requireNonNullElse(stored.forwards(), List.of()), "no forward stored");
        assertEquals(6, live.client().call(request("StopContainer").add("id", "wipe-a")).code(), "the agent forgot the containers");

        Exchange again = live.client().call(request("Command").add("command", "wipe").build(), Duration.ofMinutes(1));
        must(again);
        assertTrue(again.progress().stream().anyMatch(p -> p.getString("output").contains("Wipe finished: 0")), again::toString);

        // the same ids and addresses can be used again at once
        must(live.client().call(add("wipe-a", 0)));
        must(live.client().call(request("StartContainer").add("id", "wipe-a")));
        must(live.client().call(request("RemoveContainer").add("id", "wipe-a")));
    }

    private static String routesOnBridge() {
        return sh("ip", "-4", "route", "show", "dev", TestAgent.BRIDGE).stdout() + sh("ip", "-6", "route", "show", "dev",
                TestAgent.BRIDGE).stdout();
    }

    private static String hostPort(String domain) {
        String xml = ok("virsh", "-c", "lxc:///system", "dumpxml", domain);
        int i = xml.indexOf("<target dev='");
        assertTrue(i > 0, xml);
        return xml.substring(i + 13, xml.indexOf('\'', i + 13));
    }
}
