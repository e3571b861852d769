package dev.intervirt.agent.endpoint;

import dev.intervirt.agent.app.HostProducers;
import dev.intervirt.agent.guest.GuestService;
import dev.intervirt.agent.support.AgentClient;
import dev.intervirt.agent.support.AgentClient.Exchange;
import dev.intervirt.agent.support.FakeHost;
import jakarta.inject.Inject;
import jakarta.json.JsonObject;
import org.glassfish.tyrus.server.Server;
import org.jboss.arquillian.container.test.api.Deployment;
import org.jboss.arquillian.junit5.ArquillianExtension;
import org.jboss.shrinkwrap.api.ShrinkWrap;
import org.jboss.shrinkwrap.api.asset.EmptyAsset;
import org.jboss.shrinkwrap.api.spec.JavaArchive;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.Map;

import static dev.intervirt.agent.support.AgentClient.request;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The endpoint with its real services injected by CDI (Weld embedded through Arquillian), over
 * a real Tyrus connection; only the host adapters are fakes. Proves the wiring and the
 * protocol behaviour, not the host (the *IT tests do that).
 */
@ExtendWith(ArquillianExtension.class)
class EndpointCdiTest {

    private static Server server;
    private static int port;

    @Inject
    FakeHost.FakeHypervisor hypervisor;
    @Inject
    FakeHost.FakeFirewall firewall;
    @Inject
    GuestService guest;

    @Deployment
    static JavaArchive deployment() {
        return ShrinkWrap.create(JavaArchive.class)
                .addPackages(true, "dev.intervirt.agent")
                .deleteClass(HostProducers.class)
                // The lifecycle drives the real host (libvirt, helpers, image prefetch): not here.
                .deleteClass(dev.intervirt.agent.app.AgentLifecycle.class)
                // The WAR's own beans (its INTERVIRT_* configuration, libvirt's event loop): not the jar's.
                .deleteClass(dev.intervirt.agent.war.RuntimeConfigProducer.class)
                .deleteClass(dev.intervirt.agent.war.LibvirtEventLoopRelease.class)
                .addAsManifestResource(EmptyAsset.INSTANCE, "beans.xml");
    }

    private static synchronized void startServer() throws Exception {
        if (server == null) {
            try (java.net.ServerSocket probe = new java.net.ServerSocket(0)) {
                port = probe.getLocalPort();
            }
            server = new Server("127.0.0.1", port, "/", Map.of(), ContainerManagementEndpoint.class);
            server.start();
        }
    }

    @AfterAll
    static void stopServer() {
        if (server != null) {
            server.stop();
            server = null;
        }
    }

    /** Starts the server on first use: inside the Arquillian container, where CDI is up. */
    private static AgentClient client() {
        try {
            startServer();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        return AgentClient.connect(port);
    }

    @Test
    void versionIsTheProjectVersionWithRefId() {
        try (AgentClient c = client()) {
            var req = request("Command").add("command", "version").build();
            Exchange x = c.call(req, Duration.ofSeconds(10));
            assertEquals("Version", x.last().getString("type"));
            assertEquals(req.getString("uuid"), x.last().getString("refID"));
            assertEquals(guest.version(), x.last().getString("version"));
            assertFalse(x.last().getString("version").isBlank());
        }
    }

    @Test
    void addConnectForwardRemoveWithTheClientsFieldForms() {
        try (AgentClient c = client()) {
            Exchange add1 = c.call(request("AddContainer").add("id", "cdi-1").add("ipv4", "192.168.7.12")
                    .add("ipv6", "fd3:a:1f::12").add("mac", "b:5b:2:67:c:ff").add("internet", false).add("image", "debian/13"));
            assertTrue(add1.ok(), add1::toString);
            assertEquals("General", add1.last().getString("type"));
            assertTrue(add1.last().getString("output").contains("0a:5b:02:67:0c:ff"), add1::toString);
            assertTrue(hypervisor.exists("fake-cdi-1"));
            assertEquals("0a:5b:02:67:0c:ff", hypervisor.specs.get("fake-cdi-1").mac().canonical());

            Exchange dup = c.call(request("AddContainer").add("id", "cdi-1").add("ipv4", "192.168.7.13")
                    .add("ipv6", "fd3:a:1f::13").add("mac", "2:0:0:0:0:13").add("internet", false).add("image", "debian/13"));
            assertEquals(3, dup.code(), dup::toString);

            Exchange sameMac = c.call(request("AddContainer").add("id", "cdi-2").add("ipv4", "192.168.7.14")
                    .add("ipv6", "fd3:a:1f::14").add("mac", "0A:5B:02:67:0C:FF").add("internet", false).add("image", "debian/13"));
            assertEquals(8, sameMac.code(), sameMac::toString);
            assertTrue(sameMac.error().contains("cdi-1"), sameMac::toString);

            assertTrue(c.call(request("AddContainer").add("id", "cdi-2").add("ipv4", "10.0.0.5")
                    .add("ipv6", "fd00::5").add("mac", "2a:5b:22:67:67:67").add("internet", true).add("image", "debian/trixie")).ok());

            Exchange unknown = c.call(request("Connect").add("id1", "cdi-1").add("id2", "nope"));
            assertEquals(6, unknown.code());
            assertTrue(unknown.error().contains("nope"));
            assertEquals(8, c.call(request("Connect").add("id1", "cdi-1").add("id2", "cdi-1")).code());
            assertTrue(c.call(request("Connect").add("id1", "cdi-1").add("id2", "cdi-2")).ok());
            assertTrue(firewall.links.contains("ivc1-ivc2"), firewall.links::toString);
            assertEquals(3, c.call(request("Connect").add("id1", "cdi-2").add("id2", "cdi-1")).code());

            assertTrue(c.call(request("IDWithNewIpv4").add("id", "cdi-2").add("newIpv4", "172.16.5.5")).ok());
            assertEquals(8, c.call(request("IDWithNewIpv4").add("id", "cdi-2").add("newIP", "192.168.7.12")).code(),
                    "the address of cdi-1 must be refused");

            assertTrue(c.call(request("AddPortForwarding").add("id", "cdi-2").add("internalPort", 80)
                    .add("externalPort", 8080).add("protocol", "tcp")).ok());
            assertEquals("172.16.5.5:80", firewall.forwards.get("tcp/8080"));
            assertEquals(3, c.call(request("AddPortForwarding").add("id", "cdi-2").add("internalPort", 80)
                    .add("externalPort", 8080).add("protocol", "tcp")).code());
            Exchange taken = c.call(request("AddPortForwarding").add("id", "cdi-1").add("internalPort", 22)
                    .add("externalPort", 8080).add("protocol", "tcp"));
            assertEquals(8, taken.code());
            assertTrue(taken.error().contains("cdi-2"));
            assertEquals(8, c.call(request("AddPortForwarding").add("id", "cdi-1").add("internalPort", 22)
                    .add("externalPort", 55436).add("protocol", "tcp")).code());
            Exchange noForward = c.call(request("RemovePortForwarding").add("externalPort", 9999).add("protocol", "udp"));
            assertEquals(6, noForward.code());

            Exchange remove = c.call(request("RemoveContainer").add("id", "cdi-2"));
            assertTrue(remove.ok(), remove::toString);
            assertFalse(remove.progress().isEmpty(), "RemoveContainer streams progress");
            for (JsonObject p : remove.progress()) {
                assertEquals(-1, p.getInt("status"));
                assertFalse(p.containsKey("code"));
            }
            assertFalse(hypervisor.exists("fake-cdi-2"));
            assertFalse(firewall.forwards.containsKey("tcp/8080"), "a removed container's forwards go with it");
            assertTrue(firewall.links.isEmpty(), "a removed container's links go with it");
            assertEquals(6, c.call(request("RemoveContainer").add("id", "cdi-2")).code());
            assertTrue(c.call(request("RemoveContainer").add("id", "cdi-1")).ok());
        }
    }

    @Test
    void badFramesGetErrorsAndTheConnectionStaysUsable() {
        try (AgentClient c = client()) {
            c.sendText("this is not json");
            JsonObject notJson = c.awaitUnreferenced(Duration.ofSeconds(10));
            assertEquals(8, notJson.getInt("code"));
            assertEquals("General", notJson.getString("type"));

            c.sendBinary(new byte[]{1, 2, 3});
            assertEquals(8, c.awaitUnreferenced(Duration.ofSeconds(10)).getInt("code"));

            assertEquals(7, c.call(request("Teleport")).code());
            assertEquals(7, c.call(request("Command").add("command", "dance")).code());
            Exchange disabled = c.call(request("Command").add("command", "shutdown"));
            assertEquals(7, disabled.code(), "shutdown is disabled by default");
            assertTrue(disabled.error().contains("--poweroff-command") && disabled.error().contains("INTERVIRT_POWEROFF_COMMAND"),
                    disabled::toString);
            Exchange bad = c.call(request("StartContainer").add("id", "../etc"));
            assertEquals(8, bad.code());
            assertTrue(bad.error().contains("id"));
            assertEquals(6, c.call(request("StartContainer").add("id", "computer-1")).code());
            assertTrue(c.isOpen());
            assertTrue(c.call(request("Command").add("command", "version")).ok());
        }
    }

    /** The limit of the CDI bean AgentConfig (not the default) reaches the decoder through the endpoint's configurator. */
    @Test
    void theConfiguredMessageLimitClosesLargerMessagesWith1009() {
        int limit = dev.intervirt.agent.support.FakeHostProducers.MAX_MESSAGE_BYTES;
        try (AgentClient c = client()) {
            String uuid = java.util.UUID.randomUUID().toString();
            String head = "{\"type\":\"Connect\",\"uuid\":\"" + uuid + "\",\"id1\":\"";
            String tail = "\",\"id2\":\"b\"}";
            String fits = head + "a".repeat(limit - head.length() - tail.length()) + tail;
            c.sendText(fits);
            JsonObject r = c.poll(uuid, Duration.ofSeconds(10));
            assertTrue(r != null && r.getInt("code") == 8, "a message of exactly the limit is decoded (and refused for its id): " + r);
            c.sendText(fits.replace(head, head + "a"));
            jakarta.websocket.CloseReason reason = c.awaitClose(Duration.ofSeconds(10));
            assertTrue(reason != null, "one byte over the limit closes the connection");
            assertEquals(1009, reason.getCloseCode().getCode(), reason::toString);
            assertEquals("Message of " + (limit + 1) + " bytes; the limit is " + limit + ".", reason.getReasonPhrase());
        }
    }
}
