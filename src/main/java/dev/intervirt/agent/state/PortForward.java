package dev.intervirt.agent.state;

import dev.intervirt.agent.value.Protocol;

/** Guest {@code externalPort/protocol} forwarded to {@code containerId:internalPort}. */
public record PortForward(Protocol protocol, int externalPort, String containerId, int internalPort) {

    public String describe() {
        return externalPort + "/" + protocol.wireName();
    }
}
