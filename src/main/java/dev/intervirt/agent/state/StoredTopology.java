package dev.intervirt.agent.state;

import java.util.List;

/** The on-disk form of the topology (plain strings, stable field names). */
public record StoredTopology(int version, int nextSlot, List<StoredContainer> containers, List<Link> links,
                             List<StoredForward> forwards) {

    public static final int CURRENT_VERSION = 1;

    /** A document without a list (an older or hand-made file) holds an empty one: no reader checks for null. */
    public StoredTopology {
        containers = containers == null ? List.of() : containers;
        links = links == null ? List.of() : links;
        forwards = forwards == null ? List.of() : forwards;
    }

    public record StoredContainer(String id, String port, String mac, String ipv4, String ipv6, boolean internet,
                                  String image, boolean running) {
    }

    public record StoredForward(String protocol, int externalPort, String containerId, int internalPort) {
    }

    public static StoredTopology empty() {
        return new StoredTopology(CURRENT_VERSION, 1, List.of(), List.of(), List.of());
    }
}
