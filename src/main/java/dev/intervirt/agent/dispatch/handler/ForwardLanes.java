package dev.intervirt.agent.dispatch.handler;

import dev.intervirt.agent.value.Protocol;

/** The lane of a guest port: adding and removing forwards on one port are ordered. */
final class ForwardLanes {

    private ForwardLanes() {
    }

    static String of(Protocol protocol, int externalPort) {
        return "forward:" + protocol.wireName() + "/" + externalPort;
    }
}
