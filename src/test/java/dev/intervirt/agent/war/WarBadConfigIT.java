package dev.intervirt.agent.war;

import org.jboss.arquillian.container.test.api.Deployment;
import org.jboss.arquillian.junit5.ArquillianExtension;
import org.jboss.shrinkwrap.api.spec.WebArchive;
import dev.intervirt.agent.support.AgentClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.URI;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.Logger;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A bad INTERVIRT_* setting fails the deployment: the runtime's log says which and why, and
 * nothing serves the endpoint. (Runs first: failsafe orders the classes alphabetically.)
 */
@ExtendWith(ArquillianExtension.class)
class WarBadConfigIT {

    private static final LogCollector COLLECTOR = new LogCollector(Level.ALL);

    /** GlassFish embedded logs a failed deployment but its Arquillian adapter does not throw: the test looks. */
    @Deployment(testable = false)
    static WebArchive war() {
        Logger.getLogger("").addHandler(COLLECTOR);
        WebArchive war = WarDeploymentIT.war();
        System.setProperty("INTERVIRT_MEMORY_MIB", "lots");
        return war;
    }

    @AfterAll
    static void restore() {
        Logger.getLogger("").removeHandler(COLLECTOR);
        System.clearProperty("INTERVIRT_MEMORY_MIB");
    }

    @Test
    void theDeploymentFailsWithTheReasonLogged() {
        URI ws = URI.create("ws://127.0.0.1:" + System.getProperty("war.http.port") + "/containerManagement");
        assertThrows(IllegalStateException.class, () -> AgentClient.connect(ws).close(), "no endpoint is served");
        List<String> logged = COLLECTOR.messages();
        assertTrue(logged.stream().anyMatch(m -> m != null && m.contains("INTERVIRT_MEMORY_MIB must be a whole number")
                && m.contains("lots")), () -> "log: " + logged);
    }
}
