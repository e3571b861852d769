package dev.intervirt.agent.war;

import dev.intervirt.agent.support.AgentClient;
import dev.intervirt.agent.support.AgentClient.Exchange;
import jakarta.json.JsonObject;
import jakarta.json.JsonObjectBuilder;
import jakarta.websocket.CloseReason;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static dev.intervirt.agent.support.AgentClient.request;
import static dev.intervirt.agent.support.HostCommands.domainExists;
import static dev.intervirt.agent.support.HostCommands.domainState;
import static org.junit.jupiter.api.Assertions.*;

/**
 * What the built WAR must do in any Jakarta runtime, asked over the runtime's WebSocket as the
 * desktop client asks: the same tests run in GlassFish 7 embedded ({@link WarDeploymentIT}) and
 * in Payara Micro 6 ({@link PayaraMicroWarIT}), which say where the deployed agent is.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
abstract class WarScenarios {

    /** The deployed agent's INTERVIRT_OWNER_NAME. */
    abstract String owner();

    /** Its INTERVIRT_STATE_DIR. */
    abstract Path stateDir();

    /** The runtime's HTTP port, which is also the agent's own port (INTERVIRT_PORT). */
    abstract int ownPort();

    /**
     * The third octet of this runtime's container addresses (10.66.N.0/24, fd66:N::/64): two
     * agents on one host must not share container addresses.
     */
    abstract int subnet();

    /** ws://HOST:PORT/containerManagement of the deployed agent. */
    abstract URI protocolUri();

    protected AgentClient client;

    @BeforeEach
    void connect() {
        client = AgentClient.connect(protocolUri());
    }

    @AfterEach
    void disconnect() {
        if (client != null) {
            client.close();
        }
    }

    static final String CONTAINER = "computer-6001";

    static File warFile() {
        File war = new File(System.getProperty("intervirt.test.war", "target/intervirt-agent.war"));
        assertTrue(war.isFile(), "built WAR at " + war);
        return war;
    }

    /** An operator's INTERVIRT_* settings for a test agent in a runtime whose HTTP port is {@code port}. */
    static Map<String, String> settings(String owner, String portPrefix, Path stateDir, int port) {
        Map<String, String> settings = new LinkedHashMap<>();
        settings.put("INTERVIRT_OWNER_NAME", owner);
        settings.put("INTERVIRT_PORT_PREFIX", portPrefix);
        settings.put("INTERVIRT_BRIDGE", portPrefix + "br0");
        settings.put("INTERVIRT_STATE_DIR", stateDir.toString());
        settings.put("INTERVIRT_IMAGE_DIR", System.getenv().getOrDefault("INTERVIRT_IMAGE_DIR", "/var/lib/intervirt/images"));
        settings.put("INTERVIRT_PORT", Integer.toString(port));
        settings.put("INTERVIRT_MEMORY_MIB", "256");
        // Tests never go outside: no image server, no background prefetch.
        settings.put("INTERVIRT_IMAGE_SERVER", "none");
        settings.put("INTERVIRT_PREFETCH_IMAGES", "");
        return settings;
    }

    private String ipv4(int host) {
        return "10.66." + subnet() + "." + host;
    }

    private String ipv6(int host) {
        return "fd66:" + Integer.toHexString(subnet()) + "::" + Integer.toHexString(host);
    }

    private String mac(int host) {
        return String.format("02:66:00:00:%02x:%02x", subnet(), host);
    }

    private JsonObjectBuilder addContainer(String id, int host) {
        return request("AddContainer").add("id", id).add("ipv4", ipv4(host)).add("ipv6", ipv6(host))
                .add("mac", mac(host)).add("internet", false).add("image", "debian/trixie");
    }

    @Test
    @Order(1)
    void versionIsTheProjectVersion() throws IOException {
        Exchange reply = client.call(request("Command").add("command", "version"));
        assertEquals("Version", reply.last().getString("type"), reply::toString);
        String version = reply.last().getString("version");
        assertEquals(System.getProperty("intervirt.test.projectVersion"), version);
        assertEquals(agentPomVersion(), version, "the WAR carries the version of the project's pom.xml");
    }

    @Test
    @Order(2)
    void addStartRemoveARealContainer() {
        String domain = owner() + "-" + CONTAINER;
        Exchange added = client.call(addContainer(CONTAINER, 2));
        assertTrue(added.ok(), added::toString);
        assertEquals("shut off", domainState(domain), "AddContainer defines the domain, stopped");

        Exchange started = client.call(request("StartContainer").add("id", CONTAINER));
        assertTrue(started.ok(), started::toString);
        assertEquals("running", domainState(domain));

        Exchange removed = client.call(request("RemoveContainer").add("id", CONTAINER));
        assertTrue(removed.ok(), removed::toString);
        assertFalse(removed.progress().isEmpty(), "remove streams progress over the runtime's WebSocket");
        assertFalse(domainExists(domain), "the domain is gone from libvirt");
        assertFalse(Files.exists(stateDir().resolve("containers").resolve(CONTAINER)), "its files are gone");
    }

    @Test
    @Order(3)
    void badInputGetsAProtocolErrorAndTheConnectionStaysOpen() {
        client.sendText("{not json");
        JsonObject notJson = client.awaitUnreferenced(Duration.ofSeconds(10));
        assertEquals(8, notJson.getInt("code"), notJson::toString);
        assertEquals("The message is not valid JSON.", notJson.getString("error"));

        Exchange badMac = client.call(addContainer("computer-6002", 3).add("mac", "ff:ff:ff:ff:ff:ff"));
        assertEquals(8, badMac.code(), badMac::toString);
        assertTrue(badMac.error().contains("mac"), badMac::toString);
        assertFalse(domainExists(owner() + "-computer-6002"), "a refused request makes nothing");

        assertEquals(6, client.call(request("RemoveContainer").add("id", CONTAINER)).code(), "no such container");

        // INTERVIRT_PORT names the runtime's HTTP port, which then is the agent's own port.
        assertTrue(client.call(addContainer("computer-6003", 4)).ok());
        Exchange ownPortForward = client.call(request("AddPortForwarding").add("id", "computer-6003").add("internalPort", 80)
                .add("externalPort", ownPort()).add("protocol", "tcp"));
        assertEquals(8, ownPortForward.code(), ownPortForward::toString);
        assertTrue(ownPortForward.error().contains("agent's own port"), ownPortForward::toString);
        assertTrue(client.call(request("RemoveContainer").add("id", "computer-6003")).ok());
        assertFalse(domainExists(owner() + "-computer-6003"));
        assertTrue(client.isOpen());
    }

    @Test
    @Order(4)
    void aMessageOverTheLimitClosesTheConnectionWith1009AsTheJarDoes() {
        // 65,537 bytes: one over INTERVIRT_MAX_MESSAGE_BYTES, well inside the web.xml buffer.
        String head = "{\"type\":\"Command\",\"uuid\":\"big\",\"pad\":\"";
        client.sendText(head + "x".repeat(65_537 - head.length() - 2) + "\"}");
        CloseReason reason = client.awaitClose(Duration.ofSeconds(10));
        assertNotNull(reason, "closed by the agent");
        assertEquals(1009, reason.getCloseCode().getCode(), reason::toString);
    }

    /** The version in the project's pom.xml, read without a Maven model. */
    private static String agentPomVersion() throws IOException {
        String pom = Files.readString(Path.of(System.getProperty("intervirt.test.agentPom", "pom.xml")));
        Matcher m = Pattern.compile("<artifactId>intervirt-agent</artifactId>\\s*<version>([^<]+)</version>").matcher(pom);
        assertTrue(m.find(), "version of intervirt-agent in pom.xml");
        return m.group(1);
    }
}
