package dev.intervirt.agent.protocol;

import dev.intervirt.agent.value.ImageName;
import dev.intervirt.agent.value.MacAddress;
import dev.intervirt.agent.value.Protocol;

import java.net.Inet4Address;
import java.net.Inet6Address;

/**
 * A validated client request. Every value has been checked by {@link RequestParser}, so
 * services and host adapters only ever see well-formed ids, addresses and ports.
 */
public sealed interface Request {

    /** The request's uuid, echoed as {@code refID}. */
    String uuid();

    /** The wire name of the request type, for logs: the record's own name unless the wire calls it otherwise. */
    default String typeName() {
        return getClass().getSimpleName();
    }

    /** The container(s) the request concerns, for ordering; empty for guest-wide requests. */
    default java.util.List<String> containerIds() {
        return java.util.List.of();
    }

    /** A request about exactly one container. */
    sealed interface ForContainer extends Request {
        String id();

        @Override
        default java.util.List<String> containerIds() {
            return java.util.List.of(id());
        }
    }

    /** A request about the link between two containers. */
    sealed interface ForLink extends Request {
        String id1();

        String id2();

        @Override
        default java.util.List<String> containerIds() {
            return java.util.List.of(id1(), id2());
        }
    }

    /**
     * @param mac the MAC to use (group bit cleared)
     * @param requestedMac the MAC as the client sent it, normalised, when it had to be changed; else null
     */
    record AddContainer(String uuid, String id, Inet4Address ipv4, Inet6Address ipv6, MacAddress mac,
                        MacAddress requestedMac, boolean internet, ImageName image) implements ForContainer {
    }

    record RemoveContainer(String uuid, String id) implements ForContainer {
    }

    record StartContainer(String uuid, String id) implements ForContainer {
    }

    record StopContainer(String uuid, String id) implements ForContainer {
    }

    record SetIpv4(String uuid, String id, Inet4Address address) implements ForContainer {
        @Override
        public String typeName() {
            return "IDWithNewIpv4";
        }
    }

    record SetIpv6(String uuid, String id, Inet6Address address) implements ForContainer {
        @Override
        public String typeName() {
            return "IDWithNewIpv6";
        }
    }

    record Connect(String uuid, String id1, String id2) implements ForLink {
    }

    record Disconnect(String uuid, String id1, String id2) implements ForLink {
    }

    record SetInternetAccess(String uuid, String id, boolean enabled) implements ForContainer {
    }

    record AddPortForwarding(String uuid, String id, int internalPort, int externalPort, Protocol protocol)
            implements ForContainer {
    }

    record RemovePortForwarding(String uuid, int externalPort, Protocol protocol) implements Request {
    }

    /** {@code {"type":"Command","command":…}}. */
    record GuestCommand(String uuid, Command command) implements Request {
        @Override
        public String typeName() {
            return "Command/" + command.wireName();
        }
    }

    enum Command {
        WIPE, UPDATE, SHUTDOWN, REBOOT, VERSION;

        public String wireName() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }
}
