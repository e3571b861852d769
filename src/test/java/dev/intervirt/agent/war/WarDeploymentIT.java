package dev.intervirt.agent.war;

import dev.intervirt.agent.support.HostWipe;
import org.jboss.arquillian.container.test.api.Deployment;
import org.jboss.arquillian.junit5.ArquillianExtension;
import org.jboss.arquillian.test.api.ArquillianResource;
import org.jboss.shrinkwrap.api.ShrinkWrap;
import org.jboss.shrinkwrap.api.spec.WebArchive;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.net.URL;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The built {@code intervirt-agent.war}, deployed into GlassFish 7 embedded in this JVM: a real
 * WebSocket client talks to the endpoint the runtime serves (CDI from GlassFish's Weld, WebSocket
 * from its Tyrus) and the agent drives real libvirt. Names: owner {@code ivwar}, ports
 * {@code ivw*} (override with -Dintervirt.test.owner / -Dintervirt.test.portPrefix).
 */
@ExtendWith(ArquillianExtension.class)
class WarDeploymentIT extends WarScenarios {

    static final String OWNER = System.getProperty("intervirt.test.owner", "ivwar");
    static final String PORT_PREFIX = System.getProperty("intervirt.test.portPrefix", "ivw");
    static final Path STATE_DIR = Path.of("/var/lib/intervirt-test-" + OWNER);

    @ArquillianResource
    URL base;

    /** Cleans the host of an earlier run, configures the agent as an operator would, deploys the WAR as built. */
    @Deployment(testable = false)
    static WebArchive war() {
        HostWipe.wipe(OWNER, PORT_PREFIX, STATE_DIR);
        System.getProperties().stringPropertyNames().stream().filter(n -> n.startsWith("INTERVIRT_")).forEach(System::clearProperty);
        // The agent reads INTERVIRT_* from the environment or, as here, from system properties.
        WarScenarios.settings(OWNER, PORT_PREFIX, STATE_DIR, Integer.parseInt(System.getProperty("war.http.port")))
                .forEach(System::setProperty);
        return ShrinkWrap.createFromZipFile(WebArchive.class, warFile());
    }

    /** The protocol's URL on the runtime's port: glassfish-web.xml deploys the WAR at the root context. */
    static URI protocolUri(URL base) {
        assertEquals("/", base.getPath(), "deployed at the root context");
        return URI.create("ws://" + base.getHost() + ":" + base.getPort() + "/containerManagement");
    }

    static File warFile() {
        return WarScenarios.warFile();
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
        for (String standalone : List.of("AgentServer", "StandaloneConfig", "Main", "CdiComponentProvider", "LogSetup")) {
            assertFalse(names.contains("WEB-INF/classes/dev/intervirt/agent/app/" + standalone + ".class"), standalone);
        }
        assertEquals(List.of(), names.stream().filter(n -> n.contains("META-INF/services/")).toList(),
                "no service registrations (Tyrus' ComponentProvider belongs to the standalone jar)");
        List<String> libs = names.stream().filter(n -> n.startsWith("WEB-INF/lib/") && n.endsWith(".jar"))
                .map(n -> n.substring("WEB-INF/lib/".length()).replaceFirst("-[0-9].*", "")).sorted().toList();
        assertEquals(List.of("annotations", "jna", "jna-platform", "kotlin-stdlib", "libvirt", "pty4j", "slf4j-api",
                "sshd-common", "sshd-core"), libs, "WebSocket, CDI and JSON-B come from the runtime; SSH (issue 13) is packed");
    }

    @Override
    String owner() {
        return OWNER;
    }

    @Override
    Path stateDir() {
        return STATE_DIR;
    }

    @Override
    int ownPort() {
        return base.getPort();
    }

    @Override
    int subnet() {
        return 0;
    }

    @Override
    URI protocolUri() {
        return protocolUri(base);
    }
}
