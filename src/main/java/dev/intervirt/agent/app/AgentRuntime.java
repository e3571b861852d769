package dev.intervirt.agent.app;

/**
 * Hands the configuration parsed by {@link Main} to the CDI container (Weld SE cannot take
 * constructor arguments). Defaults apply when nothing was set, e.g. inside a Jakarta runtime.
 */
public final class AgentRuntime {

    private static volatile AgentConfig config;

    private AgentRuntime() {
    }

    public static AgentConfig config() {
        AgentConfig c = config;
        return c != null ? c : AgentConfig.defaults();
    }

    public static void configure(AgentConfig value) {
        config = value;
        // Helper processes carry the owner, so the next agent of this owner can end them.
        dev.intervirt.agent.host.HelperProcesses.configure(value.ownerName());
    }
}
