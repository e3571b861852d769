package dev.intervirt.agent.support;

import java.io.IOException;
import java.net.ServerSocket;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Ports for agents that tests start. Below the kernel's ephemeral range (32768–60999): a port
 * that {@code bind(0)} handed out and released is soon handed to the next {@code bind(0)} of any
 * process, and an agent that reconciles for seconds before it listens could find its port taken
 * (a second process listening there would even pass a bare TCP probe).
 */
public final class AgentPorts {

    private static final int LOW = 20000;
    private static final int HIGH = 32000;

    private AgentPorts() {
    }

    /** A port that is free now, outside the ephemeral range. */
    public static int free() {
        for (int attempt = 0; attempt < 200; attempt++) {
            int port = ThreadLocalRandom.current().nextInt(LOW, HIGH);
            try (ServerSocket s = new ServerSocket(port)) {
                s.setReuseAddress(true);
                return port;
            } catch (IOException taken) {
                // try another
            }
        }
        throw new IllegalStateException("no free port in " + LOW + "-" + HIGH);
    }
}
