package dev.intervirt.agent.container;

import dev.intervirt.agent.support.AgentClient.Exchange;
import dev.intervirt.agent.support.LiveAgent;
import dev.intervirt.agent.support.TestAgent;
import jakarta.json.Json;
import jakarta.json.JsonArray;
import jakarta.json.JsonObject;
import jakarta.json.JsonObjectBuilder;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;

import static dev.intervirt.agent.support.AgentClient.request;
import static dev.intervirt.agent.support.HostCommands.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Real libvirt LXC containers driven through a WebSocket client, checked from the host and
 * from inside the container: add → start → init runs, eth0 carries exactly the given
 * addresses → stop → remove, nothing left; every error case; rollback after injected failures.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ContainerLifecycleIT {

    @RegisterExtension
    static final LiveAgent live = new LiveAgent();

    @BeforeAll
    static void start() {
        live.start();
    }

    /** Stops and starts the container (a reboot from the client), asserting both succeed. */
    static void restart(String id) {
        assertTrue(live.client().call(request("StopContainer").add("id", id)).ok());
        assertTrue(live.client().call(request("StartContainer").add("id", id)).ok());
    }

    /** Polls {@code systemctl is-active} for the unit inside until it is active or the time is up; the last state. */
    static String unitStateWithin(String domain, String unit, long millis) {
        long deadline = System.currentTimeMillis() + millis;
        String state = "";
        while (System.currentTimeMillis() < deadline && !state.equals("active")) {
            sleep(250);
            state = inside(domain, "systemctl", "is-active", unit).stdout().trim();
        }
        return state;
    }

    static JsonObjectBuilder add(String id, String ipv4, String ipv6, String mac) {
        return request("AddContainer").add("id", id).add("ipv4", ipv4).add("ipv6", ipv6).add("mac", mac)
                .add("internet", false).add("image", "debian/13");
    }

    @Test
    @Order(1)
    void addStartStopRemoveARealContainer() {
        String id = "computer-93281";
        String domain = live.agent().domain(id);
        Exchange added = live.client().call(add(id, "192.168.7.12", "fd3:a:1f::12", "a:5b:2:67:c:ff"));
        assertTrue(added.ok(), added::toString);
        assertTrue(added.millis() < 30_000, "answered within the client's 30 s: " + added.millis() + " ms");
        assertEquals("shut off", domainState(domain), "created stopped, as the client expects");

        Exchange started = live.client().call(request("StartContainer").add("id", id));
        assertTrue(started.ok(), started::toString);
        assertEquals("running", domainState(domain));
        int init = initPid(domain);
        // The executable, not comm: comm reads "init" until systemd renames itself, a moment after start.
        assertTrue(procExe(init).endsWith("/systemd"), "the image's own init runs as the container's pid 1: " + procExe(init));

        assertEth0Exactly(domain, "0a:5b:02:67:0c:ff", "192.168.7.12", "fd3:a:1f::12");
        assertEquals(3, live.client().call(request("StartContainer").add("id", id)).code(), "start of a running container");

        Exchange stopped = live.client().call(request("StopContainer").add("id", id));
        assertTrue(stopped.ok(), stopped::toString);
        assertTrue(stopped.millis() < 15_000, "stop answers within 15 s: " + stopped.millis());
        assertEquals("shut off", domainState(domain));
        assertEquals(3, live.client().call(request("StopContainer").add("id", id)).code(), "stop of a stopped container");
        assertFalse(isMountedUnder(TestAgent.STATE_DIR.resolve("containers").resolve(id)), "a stopped container has no mount");

        // A restart brings the same addresses back.
        assertTrue(live.client().call(request("StartContainer").add("id", id)).ok());
        assertEth0Exactly(domain, "0a:5b:02:67:0c:ff", "192.168.7.12", "fd3:a:1f::12");

        Exchange removed = live.client().call(request("RemoveContainer").add("id", id));
        assertTrue(removed.ok(), removed::toString);
        assertFalse(removed.progress().isEmpty(), "remove streams progress");
        double last = -1;
        for (JsonObject p : removed.progress()) {
            assertEquals(-1, p.getInt("status"));
            assertTrue(p.getJsonNumber("progress").doubleValue() >= last, "progress rises");
            last = p.getJsonNumber("progress").doubleValue();
            assertFalse(p.getString("output").isBlank());
        }
        assertNothingLeftOf(id, "ivx1");
        assertEquals(6, live.client().call(request("RemoveContainer").add("id", id)).code());
    }

    @Test
    @Order(2)
    void errorCasesAnswerWithTheRightCodeAndChangeNothing() {
        assertTrue(live.client().call(add("computer-2", "10.0.0.2", "fd00::2", "02:00:00:00:00:02")).ok());
        assertEquals(3, live.client().call(add("computer-2", "10.0.0.3", "fd00::3", "02:00:00:00:00:03")).code());
        Exchange ipTaken = live.client().call(add("computer-3", "10.0.0.2", "fd00::3", "02:00:00:00:00:03"));
        assertEquals(8, ipTaken.code());
        assertTrue(ipTaken.error().contains("computer-2"), ipTaken::toString);
        Exchange macTaken = live.client().call(add("computer-3", "10.0.0.3", "fd00::3", "2:0:0:0:0:2"));
        assertEquals(8, macTaken.code());
        Exchange noImage = live.client().call(request("AddContainer").add("id", "computer-3").add("ipv4", "10.0.0.3")
                .add("ipv6", "fd00::3").add("mac", "02:00:00:00:00:03").add("internet", false).add("image", "debian/99"));
        assertEquals(6, noImage.code());
        assertTrue(noImage.error().contains("debian/99"), noImage::toString);
        assertEquals(8, live.client().call(add("computer-3", "0.0.0.0", "fd00::3", "02:00:00:00:00:03")).code());
        assertEquals(8, live.client().call(add("computer-3", "10.0.0.3", "::1", "02:00:00:00:00:03")).code());
        assertEquals(8, live.client().call(add("computer-3", "10.0.0.3", "fd00::3", "ff:ff:ff:ff:ff:ff")).code());
        assertEquals(8, live.client().call(add("../computer-3", "10.0.0.3", "fd00::3", "02:00:00:00:00:03")).code());
        Exchange missing = live.client().call(request("StartContainer").add("id", "computer-1"));
        assertEquals(6, missing.code());
        assertTrue(missing.error().contains("Container computer-1 doesn't exist"), missing::toString);
        assertEquals(6, live.client().call(request("StopContainer").add("id", "computer-1")).code());
        assertEquals(3, live.client().call(request("StopContainer").add("id", "computer-2")).code());
        assertFalse(domainExists(live.agent().domain("computer-3")), "no rejected request created anything");
        assertFalse(Files.exists(TestAgent.STATE_DIR.resolve("containers/computer-3")));
        assertTrue(live.client().isOpen());
        assertTrue(live.client().call(request("RemoveContainer").add("id", "computer-2")).ok());
    }

    @Test
    @Order(3)
    void aFailedDefineRollsBack() {
        // A foreign domain already holds the name: libvirt refuses the definition.
        String domain = live.agent().domain("computer-9");
        Path xml = Path.of("/tmp/ivagent-foreign.xml");
        writeForeignDomain(xml, domain);
        ok("virsh", "-c", "lxc:///system", "define", xml.toString());
        try {
            Exchange x = live.client().call(add("computer-9", "10.0.0.9", "fd00::9", "02:00:00:00:00:09"));
            assertEquals(4, x.code(), x::toString);
            assertFalse(x.error().isBlank());
            assertFalse(Files.exists(TestAgent.STATE_DIR.resolve("containers/computer-9")), "files rolled back");
            assertEquals(6, live.client().call(request("StartContainer").add("id", "computer-9")).code(), "no container recorded");
            assertTrue(live.client().call(add("computer-10", "10.0.0.9", "fd00::9", "02:00:00:00:00:09")).ok(),
                    "the addresses of the failed add are free again");
            assertTrue(live.client().call(request("RemoveContainer").add("id", "computer-10")).ok());
        } finally {
            sh("virsh", "-c", "lxc:///system", "undefine", domain);
        }
    }

    @Test
    @Order(4)
    void aFailedStartRollsBack() {
        String id = "computer-11";
        assertTrue(live.client().call(add(id, "10.0.0.11", "fd00::11", "02:00:00:00:00:11")).ok());
        String port = hostPortOf(live.agent().domain(id));
        // Something else took the container's host-side interface name: libvirt cannot make the veth.
        ok("ip", "link", "add", port, "type", "bridge");
        try {
            Exchange x = live.client().call(request("StartContainer").add("id", id));
            assertEquals(4, x.code(), x::toString);
            assertEquals("shut off", domainState(live.agent().domain(id)));
            assertFalse(isMountedUnder(TestAgent.STATE_DIR.resolve("containers").resolve(id)), "mount rolled back");
        } finally {
            sh("ip", "link", "delete", port);
        }
        Exchange retry = live.client().call(request("StartContainer").add("id", id));
        assertTrue(retry.ok(), "a start after the obstacle is gone works: " + retry);
        Exchange removed = live.client().call(request("RemoveContainer").add("id", id));
        assertTrue(removed.ok(), removed::toString);
        assertNothingLeftOf(id, port);
    }

    @Test
    @Order(5)
    void theImagesOwnNetworkConfigurationLeavesEth0Alone() {
        String id = "computer-12";
        String domain = live.agent().domain(id);
        assertTrue(live.client().call(add(id, "10.0.0.12", "fd00::12", "02:00:00:00:00:12")).ok());
        assertTrue(live.client().call(request("StartContainer").add("id", id)).ok());
        // Inside, someone enables systemd-networkd with DHCP, router advertisements and a static address.
        var enable = inside(domain, "sh", "-c", "mkdir -p /etc/systemd/network && printf '"
                + "[Match]\\nName=eth0\\n[Network]\\nDHCP=yes\\nIPv6AcceptRA=yes\\nAddress=10.99.99.99/24\\n' "
                + "> /etc/systemd/network/50-dhcp.network && systemctl --root=/ enable systemd-networkd");
        assertTrue(enable.ok(), enable.stderr() + enable.stdout());
        restart(id);
        assertEquals("active", unitStateWithin(domain, "systemd-networkd", 15_000), "networkd runs in the container");
        sleep(3000); // give networkd time to act on eth0 if it were going to
        assertEth0Exactly(domain, "02:00:00:00:00:12", "10.0.0.12", "fd00::12");
        assertTrue(live.client().call(request("RemoveContainer").add("id", id)).ok());
    }

    @Test
    @Order(6)
    void networkManagerAndIfupdownLeaveEth0Alone() {
        // An image with NetworkManager and ifupdown (both enabled): built once per machine.
        var built = sh("scripts/build-test-image.sh");
        assertTrue(built.ok(), built.stderr());
        String id = "computer-13";
        String domain = live.agent().domain(id);
        assertTrue(live.client().call(request("AddContainer").add("id", id).add("ipv4", "10.0.0.13").add("ipv6", "fd00::13")
                .add("mac", "02:00:00:00:00:13").add("internet", false).add("image", "ivtest/netcfg")).ok());
        assertTrue(live.client().call(request("StartContainer").add("id", id)).ok());
        // Static settings, so that a manager that took eth0 over would visibly change it.
        var configure = inside(domain, "sh", "-c", "printf 'auto lo\\niface lo inet loopback\\nauto eth0\\n"
                + "iface eth0 inet static\\n  address 10.97.97.97/24\\n' > /etc/network/interfaces"
                + " && mkdir -p /etc/NetworkManager/system-connections"
                + " && printf '[connection]\\nid=learner\\ntype=ethernet\\ninterface-name=eth0\\nautoconnect=true\\n"
                + "[ipv4]\\nmethod=manual\\naddress1=10.96.96.96/24\\n[ipv6]\\nmethod=auto\\n'"
                + " > /etc/NetworkManager/system-connections/learner.nmconnection"
                + " && chmod 600 /etc/NetworkManager/system-connections/learner.nmconnection");
        assertTrue(configure.ok(), configure.stderr());
        restart(id);
        assertEquals("active", unitStateWithin(domain, "NetworkManager", 20_000), "NetworkManager runs in the container");
        sleep(4000); // time for NetworkManager or ifup to act on eth0 if they were going to
        assertEth0Exactly(domain, "02:00:00:00:00:13", "10.0.0.13", "fd00::13");
        String devices = inside(domain, "nmcli", "-t", "-f", "DEVICE,STATE", "device", "status").stdout();
        assertTrue(devices.contains("eth0:unmanaged"), "NetworkManager leaves eth0 alone: " + devices);
        assertTrue(live.client().call(request("RemoveContainer").add("id", id)).ok());
    }

    // ---- helpers ----------------------------------------------------------------------------

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void assertEth0Exactly(String domain, String mac, String ipv4, String ipv6) {
        JsonArray links = Json.createReader(new StringReader(insideNet(domain, "ip", "-j", "addr", "show", "dev", "eth0")
                .stdout())).readArray();
        JsonObject eth0 = links.getJsonObject(0);
        assertEquals(mac, eth0.getString("address"), "MAC of eth0");
        Set<String> addresses = new HashSet<>();
        for (JsonObject a : eth0.getJsonArray("addr_info").getValuesAs(JsonObject.class)) {
            String local = a.getString("local");
            if (local.startsWith("fe80:")) {
                continue; // the kernel's own link-local address
            }
            addresses.add(local + "/" + a.getInt("prefixlen"));
        }
        assertEquals(Set.of(ipv4 + "/32", ipv6 + "/128"), addresses, "eth0 carries exactly the given addresses");
        String other = insideNet(domain, "ip", "-o", "link", "show").stdout();
        long interfaces = other.lines().count();
        assertEquals(2, interfaces, "only lo and eth0: " + other);
    }

    private static void assertNothingLeftOf(String id, String port) {
        assertFalse(domainExists(live.agent().domain(id)), "domain undefined");
        assertFalse(Files.exists(TestAgent.STATE_DIR.resolve("containers").resolve(id)), "files deleted");
        assertFalse(isMountedUnder(TestAgent.STATE_DIR.resolve("containers").resolve(id)), "no mount left");
        assertFalse(linkExists(port), "no veth left");
        String ruleset = sh("nft", "list", "ruleset").stdout();
        assertFalse(ruleset.contains("\"" + port + "\""), "no firewall element names " + port);
    }

    private static String hostPortOf(String domain) {
        String xml = ok("virsh", "-c", "lxc:///system", "dumpxml", domain);
        int i = xml.indexOf("<target dev='");
        assertTrue(i > 0, xml);
        return xml.substring(i + 13, xml.indexOf('\'', i + 13));
    }

    private static String procExe(int pid) {
        try {
            return Files.readSymbolicLink(Path.of("/proc", Integer.toString(pid), "exe")).toString();
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
    }

    private static void writeForeignDomain(Path file, String name) {
        try {
            Files.writeString(file, "<domain type='lxc'><name>" + name + "</name><memory unit='MiB'>64</memory>"
                    + "<os><type>exe</type><init>/bin/sh</init></os><devices>"
                    + "<filesystem type='mount'><source dir='/tmp'/><target dir='/'/></filesystem></devices></domain>");
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
    }
}
