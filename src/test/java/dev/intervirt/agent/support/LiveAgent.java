package dev.intervirt.agent.support;

import dev.intervirt.agent.app.AgentConfig;
import dev.intervirt.agent.support.AgentClient.Exchange;
import jakarta.json.JsonObjectBuilder;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.util.function.UnaryOperator;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The real agent (and its client) an integration test class shares: the class starts it in
 * its {@code @BeforeAll} (after any host preparation of its own), and this extension closes
 * the client and then the agent after all tests (after the class's own {@code @AfterAll}).
 * <pre>
 * &#64;RegisterExtension
 * static final LiveAgent live = new LiveAgent();
 * </pre>
 */
public final class LiveAgent implements AfterAllCallback {

    private TestAgent agent;
    private AgentClient client;

    /** Cleans the host of earlier test runs and starts an agent (see {@link TestAgent#start()}). */
    public TestAgent start() {
        return start(c -> c);
    }

    /** Like {@link #start()}, with settings changed by {@code tweak}. */
    public TestAgent start(UnaryOperator<AgentConfig> tweak) {
        agent = TestAgent.start(tweak);
        return agent;
    }

    /** Stops the agent as a guest's power-off would (containers keep running) and starts a new one on its state. */
    public TestAgent restartKeepingState(UnaryOperator<AgentConfig> tweak) {
        closeAll(client);
        client = null;
        agent.stop();
        agent = TestAgent.startKeepingState(tweak);
        return agent;
    }

    public TestAgent agent() {
        return agent;
    }

    /** One client for the class, connected on first use (classes that open their own never make it). */
    public AgentClient client() {
        if (client == null) {
            client = agent.client();
        }
        return client;
    }

    /** Sends the request on the shared client and asserts it succeeded. */
    public Exchange ok(JsonObjectBuilder request) {
        Exchange x = client().call(request);
        assertTrue(x.ok(), x::toString);
        return x;
    }

    @Override
    public void afterAll(ExtensionContext context) {
        closeAll(client, agent);
        client = null;
        agent = null;
    }

    /** Closes each of {@code resources} that is not null, in the given order (a client before its agent). */
    public static void closeAll(AutoCloseable... resources) {
        for (AutoCloseable r : resources) {
            if (r != null) {
                try {
                    r.close();
                } catch (RuntimeException e) {
                    throw e;
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }
        }
    }
}
