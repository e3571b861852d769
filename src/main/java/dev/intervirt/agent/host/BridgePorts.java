package dev.intervirt.agent.host;

import java.util.Collection;
import java.util.List;

/** The host-side ends of the containers' veths and whether they are plugged into the agent's bridge. */
public interface BridgePorts {

    /** Whether the agent's bridge exists now. */
    boolean bridgeExists();

    /** Those of {@code ports} that exist (their container runs) but are not plugged into the bridge. */
    List<String> unplugged(Collection<String> ports);

    /** Plugs an existing port into the bridge and sets it up (after the bridge was made anew). */
    void plug(String port);
}
