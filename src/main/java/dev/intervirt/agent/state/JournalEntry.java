package dev.intervirt.agent.state;

import dev.intervirt.agent.state.StoredTopology.StoredContainer;
import dev.intervirt.agent.state.StoredTopology.StoredForward;
import jakarta.json.JsonObject;
import jakarta.json.JsonString;
import jakarta.json.spi.JsonProvider;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One change of the topology as a line of {@code topology.journal}. Every entry sets something
 * to a value (a link present or absent, a container's whole record, a forward) instead of
 * changing it relative to before, so replaying the journal over a snapshot that already holds
 * its changes (a crash between the snapshot and the emptying of the journal) gives that
 * snapshot again: the last entry for each key wins.
 */
sealed interface JournalEntry {

    /** Looked up once: {@code Json.createObjectBuilder()} searches the class path for a provider on every call. */
    JsonProvider JSON = JsonProvider.provider();

    JsonObject toJson();

    void applyTo(Replay replay);

    /** The entry of a journal line; IllegalArgumentException, NullPointerException or ClassCastException when it is none. */
    static JournalEntry parse(JsonObject o) {
        String op = o.getString("op");
        return switch (op) {
            case "link", "unlink" -> new LinkChange(new Link(o.getString("a"), o.getString("b")), op.equals("link"));
            case "container" -> new ContainerPut(container(o.getJsonObject("container")), o.getInt("nextSlot"));
            case "remove" -> new ContainersRemoved(o.getJsonArray("ids").getValuesAs(JsonString::getString));
            case "forward" -> new ForwardPut(new StoredForward(o.getString("protocol"), o.getInt("externalPort"),
                    o.getString("containerId"), o.getInt("internalPort")));
            case "unforward" -> new ForwardRemoved(o.getString("protocol"), o.getInt("externalPort"));
            default -> throw new IllegalArgumentException("unknown journal entry " + op);
        };
    }

    record LinkChange(Link link, boolean linked) implements JournalEntry {
        @Override
        public JsonObject toJson() {
            return JSON.createObjectBuilder().add("op", linked ? "link" : "unlink").add("a", link.a()).add("b", link.b())
                    .build();
        }

        @Override
        public void applyTo(Replay r) {
            if (linked) {
                r.links.add(link);
            } else {
                r.links.remove(link);
            }
        }
    }

    /** A container added or changed (address, internet, running): its whole record. */
    record ContainerPut(StoredContainer container, int nextSlot) implements JournalEntry {
        @Override
        public JsonObject toJson() {
            StoredContainer c = container;
            return JSON.createObjectBuilder().add("op", "container").add("nextSlot", nextSlot)
                    .add("container", JSON.createObjectBuilder().add("id", c.id()).add("port", c.port()).add("mac", c.mac())
                            .add("ipv4", c.ipv4()).add("ipv6", c.ipv6()).add("internet", c.internet())
                            .add("image", c.image()).add("running", c.running()))
                    .build();
        }

        @Override
        public void applyTo(Replay r) {
            r.containers.put(container.id(), container);
            r.nextSlot = Math.max(r.nextSlot, nextSlot);
        }
    }

    /** Containers removed, with their links and forwards. */
    record ContainersRemoved(List<String> ids) implements JournalEntry {
        public ContainersRemoved {
            ids = List.copyOf(ids);
        }

        @Override
        public JsonObject toJson() {
            return JSON.createObjectBuilder().add("op", "remove").add("ids", JSON.createArrayBuilder(ids)).build();
        }

        @Override
        public void applyTo(Replay r) {
            Set<String> gone = Set.copyOf(ids);
            r.containers.keySet().removeAll(gone);
            r.links.removeIf(l -> gone.contains(l.a()) || gone.contains(l.b()));
            r.forwards.values().removeIf(f -> gone.contains(f.containerId()));
        }
    }

    record ForwardPut(StoredForward forward) implements JournalEntry {
        @Override
        public JsonObject toJson() {
            StoredForward f = forward;
            return JSON.createObjectBuilder().add("op", "forward").add("protocol", f.protocol())
                    .add("externalPort", f.externalPort()).add("containerId", f.containerId())
                    .add("internalPort", f.internalPort()).build();
        }

        @Override
        public void applyTo(Replay r) {
            r.forwards.put(key(forward.protocol(), forward.externalPort()), forward);
        }
    }

    record ForwardRemoved(String protocol, int externalPort) implements JournalEntry {
        @Override
        public JsonObject toJson() {
            return JSON.createObjectBuilder().add("op", "unforward").add("protocol", protocol)
                    .add("externalPort", externalPort).build();
        }

        @Override
        public void applyTo(Replay r) {
            r.forwards.remove(key(protocol, externalPort));
        }
    }

    private static String key(String protocol, int externalPort) {
        return protocol + "/" + externalPort;
    }

    private static StoredContainer container(JsonObject c) {
        return new StoredContainer(c.getString("id"), c.getString("port"), c.getString("mac"), c.getString("ipv4"),
                c.getString("ipv6"), c.getBoolean("internet"), c.getString("image"), c.getBoolean("running"));
    }

    /** A snapshot being brought up to date by the journal's entries, in order. */
    final class Replay {
        private final int version;
        private int nextSlot;
        private final Map<String, StoredContainer> containers = new LinkedHashMap<>();
        private final Set<Link> links = new LinkedHashSet<>();
        private final Map<String, StoredForward> forwards = new LinkedHashMap<>();

        Replay(StoredTopology snapshot) {
            version = snapshot.version();
            nextSlot = snapshot.nextSlot();
            snapshot.containers().forEach(c -> containers.put(c.id(), c));
            links.addAll(snapshot.links());
            snapshot.forwards().forEach(f -> forwards.put(key(f.protocol(), f.externalPort()), f));
        }

        StoredTopology result() {
            return new StoredTopology(version, nextSlot, new ArrayList<>(containers.values()), new ArrayList<>(links),
                    new ArrayList<>(forwards.values()));
        }
    }
}
