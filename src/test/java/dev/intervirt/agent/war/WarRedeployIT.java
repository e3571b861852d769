package dev.intervirt.agent.war;

import dev.intervirt.agent.support.AgentClient;
import dev.intervirt.agent.support.AgentClient.Exchange;
import dev.intervirt.agent.support.HostWipe;
import org.jboss.arquillian.container.test.api.Deployment;
import org.jboss.arquillian.junit5.ArquillianExtension;
import org.jboss.arquillian.test.api.ArquillianResource;
import org.jboss.shrinkwrap.api.spec.WebArchive;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.URL;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.Logger;

import static dev.intervirt.agent.support.AgentClient.request;
import static dev.intervirt.agent.support.HostCommands.domainExists;
import static dev.intervirt.agent.support.HostCommands.domainState;
import static org.junit.jupiter.api.Assertions.*;

/**
 * A second deployment of the WAR into the same running GlassFish (Arquillian keeps the embedded
 * server for the whole failsafe JVM and failsafe runs the classes alphabetically, so this runs
 * after {@link WarDeploymentIT}'s deploy and undeploy), as after {@code asadmin redeploy}: libvirt,
 * JNA and the agent work again in a new class loader, and libvirt's events reach the new
 * deployment only (the first one's event loop must have stopped with it).
 */
@ExtendWith(ArquillianExtension.class)
class WarRedeployIT {

    static final String CONTAINER = "computer-6101";

    @ArquillianResource
    URL base;

    /** Warnings of the agent's classes, logged into the runtime's (this JVM's) java.util.logging. */
    private static final LogCollector COLLECTOR = new LogCollector(Level.WARNING);

    @Deployment(testable = false)
    static WebArchive war() {
        return WarDeploymentIT.war();
    }

    @BeforeAll
    static void collectWarnings() {
        Logger.getLogger("dev.intervirt").addHandler(COLLECTOR);
    }

    @AfterAll
    static void cleanUp() {
        Logger.getLogger("dev.intervirt").removeHandler(COLLECTOR);
        HostWipe.wipe(WarDeploymentIT.OWNER, WarDeploymentIT.PORT_PREFIX, WarDeploymentIT.STATE_DIR);
    }

    @Test
    void theAgentWorksInASecondDeployment() {
        try (AgentClient client = AgentClient.connect(WarDeploymentIT.protocolUri(base))) {
            Exchange version = client.call(request("Command").add("command", "version"));
            assertEquals(System.getProperty("intervirt.test.projectVersion"), version.last().getString("version"));
            String domain = WarDeploymentIT.OWNER + "-" + CONTAINER;
            Exchange added = client.call(request("AddContainer").add("id", CONTAINER).add("ipv4", "10.66.1.2")
                    .add("ipv6", "fd66:1::2").add("mac", "02:66:00:00:01:02").add("internet", false).add("image", "debian/trixie"));
            assertTrue(added.ok(), added::toString);
            Exchange started = client.call(request("StartContainer").add("id", CONTAINER));
            assertTrue(started.ok(), started::toString);
            assertEquals("running", domainState(domain));
            Exchange removed = client.call(request("RemoveContainer").add("id", CONTAINER));
            assertTrue(removed.ok(), removed::toString);
            assertFalse(domainExists(domain));
        }
        // The start's libvirt event was handled by this deployment, not the undeployed one's loop.
        assertEquals(List.of(), COLLECTOR.records().stream().map(r -> r.getLoggerName() + ": " + r.getMessage() + " " + r.getThrown()).toList());
    }
}
