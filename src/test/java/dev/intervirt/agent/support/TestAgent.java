package dev.intervirt.agent.support;

import dev.intervirt.agent.app.AgentConfig;
import dev.intervirt.agent.app.AgentServer;

import java.nio.file.Path;
import java.time.Duration;

/**
 * A real agent in the test JVM, on real libvirt and nftables, with host objects named for
 * tests only (owner "ivagent": network, tables and domain prefix; ports "ivx*"; bridge
 * ivxbr0; state under /var/lib/intervirt-test), so it never touches a production agent's.
 * Leftovers of an earlier run are removed before start and everything is removed after.
 */
public final class TestAgent implements AutoCloseable {

    /** -Dintervirt.test.owner=NAME (with a different port prefix) lets two test runs share a host. */
    public static final String OWNER = System.getProperty("intervirt.test.owner", "ivagent");
    public static final String PORT_PREFIX = System.getProperty("intervirt.test.portPrefix", "ivx");
    public static final String BRIDGE = PORT_PREFIX + "br0";
    public static final Path STATE_DIR = Path.of("/var/lib/intervirt-test-" + OWNER);
    public static final Path IMAGE_DIR = Path.of(System.getenv().getOrDefault("INTERVIRT_IMAGE_DIR", "/var/lib/intervirt/images"));

    private final AgentServer server;
    private final AgentConfig config;

    private TestAgent(AgentConfig config) {
        this.config = config;
        this.server = new AgentServer(config);
    }

    /** Cleans the host of earlier test runs, then starts an agent on a free port. */
    public static TestAgent start() {
        wipeHost();
        return startKeepingState();
    }

    /** Like {@link #start()}, with settings changed by {@code tweak} (e.g. harmless guest commands). */
    public static TestAgent start(java.util.function.UnaryOperator<AgentConfig> tweak) {
        wipeHost();
        return startKeepingState(tweak);
    }

    /** Starts an agent on the existing test state (for restart tests). */
    public static TestAgent startKeepingState() {
        return startKeepingState(c -> c);
    }

    /** Starts an agent on the existing test state, with settings changed by {@code tweak}. */
    public static TestAgent startKeepingState(java.util.function.UnaryOperator<AgentConfig> tweak) {
        // The defaults but for names, limits, debug logging and image sources (none but the store).
        AgentConfig c = tweak.apply(AgentConfig.defaults().toBuilder().port(AgentPorts.free()).stateDir(STATE_DIR)
                .imageDir(IMAGE_DIR).bridge(BRIDGE).ownerName(OWNER).portPrefix(PORT_PREFIX).memoryMiB(256).pidsMax(512)
                .stopGrace(Duration.ofSeconds(10)).debug(true).images(dev.intervirt.agent.image.ImageSettings.localOnly()).build());
        TestAgent agent = new TestAgent(c);
        try {
            agent.server.start();
        } catch (AgentServer.StartupException e) {
            // Shut Weld down, or no later agent can start in this JVM ("already running").
            agent.server.stop();
            throw new IllegalStateException("test agent did not start: " + e.getMessage(), e);
        }
        return agent;
    }

    public int port() {
        return server.port();
    }

    public AgentConfig config() {
        return config;
    }

    public AgentClient client() {
        return AgentClient.connect(port());
    }

    public String domain(String id) {
        return OWNER + "-" + id;
    }

    /** Stops the agent; containers keep running, as in production. */
    public void stop() {
        server.stop();
    }

    @Override
    public void close() {
        stop();
        wipeHost();
    }

    /** Removes every host object a test agent may have made: domains, mounts, files, tables, network. */
    public static void wipeHost() {
        wipeHost(OWNER, PORT_PREFIX, STATE_DIR);
    }

    /** The same for any owner name, port prefix and state directory (benchmarks use their own). */
    public static void wipeHost(String owner, String portPrefix, Path stateDir) {
        HostWipe.wipe(owner, portPrefix, stateDir);
    }

}
