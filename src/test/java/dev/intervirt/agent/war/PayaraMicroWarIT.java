package dev.intervirt.agent.war;

import dev.intervirt.agent.support.AgentClient;
import dev.intervirt.agent.support.AgentPorts;
import dev.intervirt.agent.support.HostWipe;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The built WAR in a second Jakarta EE 10 runtime, Payara Micro 6, started as its own process
 * with {@code --deploy}: the same checks as in GlassFish ({@link WarScenarios}), and a bad setting
 * that fails the deployment with its reason in the runtime's log. Names: owner {@code ivpay},
 * ports {@code ivp*}, container addresses 10.66.2.0/24 (none shared with the other suites).
 */
class PayaraMicroWarIT extends WarScenarios {

    static final String OWNER = "ivpay";
    static final String PORT_PREFIX = "ivp";
    static final Path STATE_DIR = Path.of("/var/lib/intervirt-test-" + OWNER);
    static final Path WORK_DIR = Path.of("target", "payara-micro-it");

    private static int port;
    private static PayaraMicro runtime;

    @BeforeAll
    static void startPayaraMicroWithTheWar() throws IOException, InterruptedException {
        HostWipe.wipe(OWNER, PORT_PREFIX, STATE_DIR);
        port = AgentPorts.free();
        runtime = PayaraMicro.start(port, WarScenarios.settings(OWNER, PORT_PREFIX, STATE_DIR, port), WORK_DIR.resolve("agent"));
        assertTrue(runtime.awaitReady(180), () -> "Payara Micro did not come up; log " + runtime.logFile() + ":\n" + tail(runtime.log()));
    }

    @AfterAll
    static void stop() throws InterruptedException {
        if (runtime != null) {
            runtime.close();
        }
        HostWipe.wipe(OWNER, PORT_PREFIX, STATE_DIR);
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
        return port;
    }

    @Override
    int subnet() {
        return 2;
    }

    @Override
    URI protocolUri() {
        return URI.create("ws://127.0.0.1:" + port + "/containerManagement");
    }

    /** A second Payara Micro with a bad setting: the deployment fails, its log says which and why. */
    @Test
    @Order(5)
    void aBadSettingFailsTheDeploymentWithTheReasonLogged() throws IOException, InterruptedException {
        int badPort = AgentPorts.free();
        Map<String, String> settings = WarScenarios.settings("ivpaybad", "ivpq", Path.of("/var/lib/intervirt-test-ivpaybad"), badPort);
        settings.put("INTERVIRT_MEMORY_MIB", "lots");
        try (PayaraMicro bad = PayaraMicro.start(badPort, settings, WORK_DIR.resolve("bad-setting"))) {
            bad.awaitReady(180);
            String log = bad.log();
            assertTrue(log.contains("INTERVIRT_MEMORY_MIB must be a whole number") && log.contains("lots"), () -> tail(log));
            URI ws = URI.create("ws://127.0.0.1:" + badPort + "/containerManagement");
            assertThrows(IllegalStateException.class, () -> AgentClient.connect(ws).close(), "no endpoint is served");
        }
    }

    private static String tail(String log) {
        return log.length() <= 6000 ? log : log.substring(log.length() - 6000);
    }
}
