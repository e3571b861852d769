package dev.intervirt.agent.war;

import dev.intervirt.agent.app.AgentConfig;
import dev.intervirt.agent.support.AgentClient;
import dev.intervirt.agent.support.AgentClient.Exchange;
import dev.intervirt.agent.support.HostWipe;
import jakarta.json.JsonObject;
import org.jboss.arquillian.container.test.api.Deployment;
import org.jboss.arquillian.junit5.ArquillianExtension;
import org.jboss.arquillian.test.api.ArquillianResource;
import org.jboss.shrinkwrap.api.ShrinkWrap;
import org.jboss.shrinkwrap.api.spec.WebArchive;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

import static dev.intervirt.agent.support.AgentClient.request;
import static dev.intervirt.agent.support.HostCommands.domainExists;
import static dev.intervirt.agent.support.HostCommands.domainState;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The built {@code intervirt-agent.war}, deployed into GlassFish 7 embedded in this JVM: a real
 * WebSocket client talks to the endpoint the runtime serves (CDI from GlassFish's Weld, WebSocket
 * from its Tyrus) and the agent drives real libvirt. Names: owner {@code ivwar}, ports
 * {@code ivw*} (override with -Dintervirt.test.owner / -Dintervirt.test.portPrefix).
 */
@ExtendWith(ArquillianExtension.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class WarDeploymentIT {

    static final String OWNER = System.getProperty("intervirt.test.owner", "ivwar");
    static final String PORT_PREFIX = System.getProperty("intervirt.test.portPrefix", "ivw");
    static final Path STATE_DIR = Path.of("/var/lib/intervirt-test-" + OWNER);
    static final String CONTAINER = "computer-6001";

    @ArquillianResource
    URL base;

    private AgentClient client;

    /** Cleans the host of an earlier run, configures the agent as an operator would, deploys the WAR as built. */
    @Deployment(testable = false)
    static WebArchive war() {
        HostWipe.wipe(OWNER, PORT_PREFIX, STATE_DIR);
        System.getProperties().stringPropertyNames().stream().filter(n -> n.startsWith("INTERVIRT_")).forEach(System::clearProperty);
        // The agent reads INTERVIRT_* from the environment or, as here, from system properties.
        System.setProperty("INTERVIRT_OWNER_NAME", OWNER);
        System.setProperty("INTERVIRT_PORT_PREFIX", PORT_PREFIX);
        System.setProperty("INTERVIRT_BRIDGE", PORT_PREFIX + "br0");
        System.setProperty("INTERVIRT_STATE_DIR", STATE_DIR.toString());
        System.setProperty("INTERVIRT_IMAGE_DIR", System.getenv().getOrDefault("INTERVIRT_IMAGE_DIR", "/var/lib/intervirt/images"));
        System.setProperty("INTERVIRT_PORT", System.getProperty("war.http.port"));
        System.setProperty("INTERVIRT_MEMORY_MIB", "256");
        // Tests never go outside: no image server, no background prefetch.
        System.setProperty("INTERVIRT_IMAGE_SERVER", "none");
        System.setProperty("INTERVIRT_PREFETCH_IMAGES", "");
        return ShrinkWrap.createFromZipFile(WebArchive.class, warFile());
    }

    /** The protocol's URL on the runtime's port: glassfish-web.xml deploys the WAR at the root context. */
    static URI protocolUri(URL base) {
        assertEquals("/", base.getPath(), "deployed at the root context");
        return URI.create("ws://" + base.getHost() + ":" + base.getPort() + "/containerManagement");
    }

    static File warFile() {
        File war = new File(System.getProperty("intervirt.test.war", "target/intervirt-agent.war"));
        assertTrue(war.isFile(), "built WAR at " + war);
        return war;
    }

    @BeforeEach
    void connect() {
        client = AgentClient.connect(protocolUri(base));
    }

    @AfterEach
    void disconnect() {
        if (client != null) {
            client.close();
        }
    }

    @AfterAll
    static void cleanUp() {
        HostWipe.wipe(OWNER, PORT_PREFIX, STATE_DIR);
    }

    @Test
    @Order(0)
    void theWarCarriesTheAgentButNoStandaloneBootstrap() throws IOException {
        List<String> names;
        try (ZipFile zip = new ZipFile(warFile())) {
            names = zip.stream().map(ZipEntry::getName).toList();
        }
        assertTrue(names.contains("WEB-INF/beans.xml"), "CDI bean archive");
        assertTrue(names.contains("WEB-INF/web.xml"), "Tyrus' incoming buffer");
        assertTrue(names.contains("WEB-INF/glassfish-web.xml"), "root context");
        assertTrue(names.contains("WEB-INF/classes/dev/intervirt/agent/endpoint/ContainerManagementEndpoint.class"));
        for (String standalone : List.of("AgentServer", "Main", "CdiComponentProvider", "LogSetup")) {
            assertFalse(names.contains("WEB-INF/classes/dev/intervirt/agent/app/" + standalone + ".class"), standalone);
        }
        assertEquals(List.of(), names.stream().filter(n -> n.contains("META-INF/services/")).toList(),
                "no service registrations (Tyrus' ComponentProvider belongs to the standalone jar)");
        List<String> libs = names.stream().filter(n -> n.startsWith("WEB-INF/lib/") && n.endsWith(".jar"))
                .map(n -> n.substring("WEB-INF/lib/".length()).replaceFirst("-[0-9].*", "")).sorted().toList();
        assertEquals(List.of("annotations", "jna", "jna-platform", "kotlin-stdlib", "libvirt", "pty4j", "slf4j-api",
                "sshd-common", "sshd-core"), libs, "WebSocket, CDI and JSON-B come from the runtime; SSH (issue 13) is packed");
    }

    @Test
    @Order(1)
    void versionIsTheProjectVersion() throws IOException {
        Exchange reply = client.call(request("Command").add("command", "version"));
        assertEquals("Version", reply.last().getString("type"), reply::toString);
        String version = reply.last().getString("version");
        assertEquals(System.getProperty("intervirt.test.projectVersion"), version);
        assertEquals(agentPomVersion(), version, "war/pom.xml's version must follow ../pom.xml's");
    }

    @Test
    @Order(2)
    void addStartRemoveARealContainer() {
        String domain = OWNER + "-" + CONTAINER;
        Exchange added = client.call(request("AddContainer").add("id", CONTAINER).add("ipv4", "10.66.0.2")
                .add("ipv6", "fd66::2").add("mac", "02:66:00:00:00:02").add("internet", false).add("image", "debian/trixie"));
        assertTrue(added.ok(), added::toString);
        assertEquals("shut off", domainState(domain), "AddContainer defines the domain, stopped");

        Exchange started = client.call(request("StartContainer").add("id", CONTAINER));
        assertTrue(started.ok(), started::toString);
        assertEquals("running", domainState(domain));

        Exchange removed = client.call(request("RemoveContainer").add("id", CONTAINER));
        assertTrue(removed.ok(), removed::toString);
        assertFalse(removed.progress().isEmpty(), "remove streams progress over the runtime's WebSocket");
        assertFalse(domainExists(domain), "the domain is gone from libvirt");
        assertFalse(Files.exists(STATE_DIR.resolve("containers").resolve(CONTAINER)), "its files are gone");
    }

    @Test
    @Order(3)
    void badInputGetsAProtocolErrorAndTheConnectionStaysOpen() {
        client.sendText("{not json");
        JsonObject notJson = client.awaitUnreferenced(Duration.ofSeconds(10));
        assertEquals(8, notJson.getInt("code"), notJson::toString);
        assertEquals("The message is not valid JSON.", notJson.getString("error"));

        Exchange badMac = client.call(request("AddContainer").add("id", "computer-6002").add("ipv4", "10.66.0.3")
                .add("ipv6", "fd66::3").add("mac", "ff:ff:ff:ff:ff:ff").add("internet", false).add("image", "debian/trixie"));
        assertEquals(8, badMac.code(), badMac::toString);
        assertTrue(badMac.error().contains("mac"), badMac::toString);
        assertFalse(domainExists(OWNER + "-computer-6002"), "a refused request makes nothing");

        assertEquals(6, client.call(request("RemoveContainer").add("id", CONTAINER)).code(), "no such container");

        // INTERVIRT_PORT names the runtime's HTTP port, which then is the agent's own port.
        assertTrue(client.call(request("AddContainer").add("id", "computer-6003").add("ipv4", "10.66.0.4").add("ipv6", "fd66::4")
                .add("mac", "02:66:00:00:00:04").add("internet", false).add("image", "debian/trixie")).ok());
        Exchange ownPort = client.call(request("AddPortForwarding").add("id", "computer-6003").add("internalPort", 80)
                .add("externalPort", base.getPort()).add("protocol", "tcp"));
        assertEquals(8, ownPort.code(), ownPort::toString);
        assertTrue(ownPort.error().contains("agent's own port"), ownPort::toString);
        assertTrue(client.call(request("RemoveContainer").add("id", "computer-6003")).ok());
        assertFalse(domainExists(OWNER + "-computer-6003"));
        assertTrue(client.isOpen());
    }

    @Test
    @Order(4)
    void aMessageOverTheLimitClosesTheConnectionWith1009AsTheJarDoes() throws InterruptedException {
        // 65,537 bytes: one over INTERVIRT_MAX_MESSAGE_BYTES, well inside the web.xml buffer.
        String head = "{\"type\":\"Command\",\"uuid\":\"big\",\"pad\":\"";
        client.sendText(head + "x".repeat(65_537 - head.length() - 2) + "\"}");
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (client.closeReason() == null && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertNotNull(client.closeReason(), "closed by the agent");
        assertEquals(1009, client.closeReason().getCloseCode().getCode(), client.closeReason()::toString);
    }

    /** The version in the main ../pom.xml (the project's), read without a Maven model. */
    private static String agentPomVersion() throws IOException {
        String pom = Files.readString(Path.of(System.getProperty("intervirt.test.agentPom", "../pom.xml")));
        Matcher m = Pattern.compile("<artifactId>intervirt-agent</artifactId>\\s*<version>([^<]+)</version>").matcher(pom);
        assertTrue(m.find(), "version of intervirt-agent in ../pom.xml");
        return m.group(1);
    }
}
