package dev.intervirt.agent.protocol;

import dev.intervirt.agent.protocol.Request.*;
import dev.intervirt.agent.value.ContainerId;
import dev.intervirt.agent.value.ImageName;
import dev.intervirt.agent.value.IpAddresses;
import dev.intervirt.agent.value.IpAddresses.InvalidAddressException;
import dev.intervirt.agent.value.MacAddress;
import dev.intervirt.agent.value.Protocol;
import jakarta.json.JsonNumber;
import jakarta.json.JsonObject;
import jakarta.json.JsonString;
import jakarta.json.JsonValue;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.util.Locale;

/**
 * Turns a decoded JSON object into a validated {@link Request}. Every problem becomes an
 * {@link InvalidRequest} naming the field, so the learner knows what to fix. Accepts the spec's
 * field names and the deployed client's aliases ({@code newIpv4}/{@code newIpv6} for {@code newIP}).
 */
public final class RequestParser {

    static final int MAX_UUID_LENGTH = 128;

    /** A request that cannot be served; {@code uuid} is known when it could be read. */
    public static final class InvalidRequest extends AgentException {
        private final String uuid;

        public InvalidRequest(String uuid, ErrorCode code, String message) {
            super(code, message);
            this.uuid = uuid;
        }

        public String uuid() {
            return uuid;
        }
    }

    private final JsonObject json;
    private final String uuid;

    private RequestParser(JsonObject json) {
        this.json = json;
        JsonValue u = json.get("uuid");
        this.uuid = u instanceof JsonString s && s.getString().length() <= MAX_UUID_LENGTH ? s.getString() : null;
    }

    /** The uuid of a frame, when it is a string of acceptable length; else null. */
    public static String uuidOf(JsonObject json) {
        return new RequestParser(json).uuid;
    }

    public static Request parse(JsonObject json) {
        return new RequestParser(json).parse();
    }

    private Request parse() {
        JsonValue typeValue = json.get("type");
        if (!(typeValue instanceof JsonString typeString) || typeString.getString().isBlank()) {
            throw invalid("The request has no \"type\" field (a string such as \"AddContainer\").");
        }
        String type = typeString.getString();
        if (uuid == null) {
            throw invalid(json.containsKey("uuid")
                    ? "Field \"uuid\" must be a string of at most " + MAX_UUID_LENGTH + " characters."
                    : "Field \"uuid\" is missing; every request needs one (a random UUID).");
        }
        return switch (type) {
            case "AddContainer" -> addContainer();
            case "RemoveContainer" -> new RemoveContainer(uuid, containerId("id"));
            case "StartContainer" -> new StartContainer(uuid, containerId("id"));
            case "StopContainer" -> new StopContainer(uuid, containerId("id"));
            case "IDWithNewIpv4" -> new SetIpv4(uuid, containerId("id"), ipv4(newIpField("newIpv4")));
            case "IDWithNewIpv6" -> new SetIpv6(uuid, containerId("id"), ipv6(newIpField("newIpv6")));
            case "Connect" -> new Connect(uuid, containerId("id1"), containerId("id2"));
            case "Disconnect" -> new Disconnect(uuid, containerId("id1"), containerId("id2"));
            case "SetInternetAccess" -> new SetInternetAccess(uuid, containerId("id"), bool("enabled"));
            case "AddPortForwarding" -> new AddPortForwarding(uuid, containerId("id"), port("internalPort"),
                    port("externalPort"), protocol());
            case "RemovePortForwarding" -> new RemovePortForwarding(uuid, port("externalPort"), protocol());
            case "Command" -> new GuestCommand(uuid, command());
            default -> throw new InvalidRequest(uuid, ErrorCode.UNSUPPORTED,
                    "Unknown request type \"" + Text.printable(type) + "\".");
        };
    }

    private AddContainer addContainer() {
        String id = containerId("id");
        Inet4Address ipv4 = ipv4("ipv4");
        Inet6Address ipv6 = ipv6("ipv6");
        MacAddress requested = mac();
        MacAddress usable = requested.isGroup() ? requested.withGroupBitCleared() : requested;
        boolean internet = bool("internet");
        String imageText = string("image");
        ImageName image = ImageName.parse(imageText.toLowerCase(Locale.ROOT));
        if (image == null) {
            throw invalid("Field \"image\" must be distribution/release, like debian/13 (got \""
                    + Text.printable(imageText) + "\").");
        }
        return new AddContainer(uuid, id, ipv4, ipv6, usable, requested.isGroup() ? requested : null, internet, image);
    }

    private MacAddress mac() {
        String text = string("mac");
        MacAddress mac = MacAddress.parseLoose(text);
        if (mac == null) {
            throw invalid("Field \"mac\" must be six hex octets separated by colons, like 2a:5b:22:67:67:67 (got \""
                    + Text.printable(text) + "\").");
        }
        if (mac.isZero()) {
            throw invalid("Field \"mac\" is 00:00:00:00:00:00, which no network card can use.");
        }
        if (mac.canonical().equals("ff:ff:ff:ff:ff:ff")) {
            throw invalid("Field \"mac\" is the broadcast address ff:ff:ff:ff:ff:ff, which no network card can use.");
        }
        if (mac.isGroup() && mac.withGroupBitCleared().isZero()) {
            throw invalid("Field \"mac\" is " + mac + "; without its group bit it is 00:00:00:00:00:00, which no network card can use.");
        }
        return mac;
    }

    /** The spec's {@code newIP} or the client's alias; both present and different is an error. */
    private String newIpField(String alias) {
        boolean hasSpec = json.containsKey("newIP");
        boolean hasAlias = json.containsKey(alias);
        if (hasSpec && hasAlias && !json.get("newIP").equals(json.get(alias))) {
            throw invalid("Fields \"newIP\" and \"" + alias + "\" disagree; send one of them.");
        }
        if (!hasSpec && !hasAlias) {
            throw invalid("Field \"newIP\" (or \"" + alias + "\") is missing.");
        }
        return hasSpec ? "newIP" : alias;
    }

    private Inet4Address ipv4(String field) {
        return address(field, IpAddresses::parseIpv4);
    }

    private Inet6Address ipv6(String field) {
        return address(field, IpAddresses::parseIpv6);
    }

    /** An address parser of {@link IpAddresses}, whose complaint names what is wrong with the text. */
    private interface AddressParser<A> {
        A parse(String text) throws InvalidAddressException;
    }

    private <A> A address(String field, AddressParser<A> parser) {
        String text = string(field);
        try {
            return parser.parse(text);
        } catch (InvalidAddressException e) {
            throw invalid("Field \"" + field + "\": \"" + Text.printable(text) + "\" " + e.getMessage() + ".");
        }
    }

    private String containerId(String field) {
        String id = string(field);
        if (!ContainerId.isValid(id)) {
            throw invalid("Field \"" + field + "\": \"" + Text.printable(id) + "\" is not a valid container name"
                    + " (1-63 characters of letters, digits, '_', '.', '-', not starting with '.' or '-').");
        }
        return id;
    }

    private int port(String field) {
        JsonValue v = require(field);
        if (!(v instanceof JsonNumber n) || !n.isIntegral()) {
            throw invalid("Field \"" + field + "\" must be a whole number from 1 to 65535.");
        }
        long value;
        try {
            value = n.bigIntegerValueExact().longValueExact();
        } catch (ArithmeticException e) {
            value = -1;
        }
        if (value < 1 || value > 65535) {
            throw invalid("Field \"" + field + "\" must be a port from 1 to 65535 (got " + Text.printable(n.toString()) + ").");
        }
        return (int) value;
    }

    private Protocol protocol() {
        String text = string("protocol");
        Protocol p = Protocol.parse(text);
        if (p == null) {
            throw invalid("Field \"protocol\" must be \"tcp\" or \"udp\" (got \"" + Text.printable(text) + "\").");
        }
        return p;
    }

    private Command command() {
        String text = string("command");
        for (Command c : Command.values()) {
            if (c.wireName().equals(text)) {
                return c;
            }
        }
        throw new InvalidRequest(uuid, ErrorCode.UNSUPPORTED, "Unknown command \"" + Text.printable(text)
                + "\"; known commands are wipe, update, shutdown, reboot and version.");
    }

    private boolean bool(String field) {
        JsonValue v = require(field);
        if (v == JsonValue.TRUE) {
            return true;
        }
        if (v == JsonValue.FALSE) {
            return false;
        }
        throw invalid("Field \"" + field + "\" must be true or false.");
    }

    private String string(String field) {
        JsonValue v = require(field);
        if (!(v instanceof JsonString s)) {
            throw invalid("Field \"" + field + "\" must be a string.");
        }
        return s.getString();
    }

    private JsonValue require(String field) {
        JsonValue v = json.get(field);
        if (v == null || v == JsonValue.NULL) {
            throw invalid("Field \"" + field + "\" is missing.");
        }
        return v;
    }

    private InvalidRequest invalid(String message) {
        return new InvalidRequest(uuid, ErrorCode.INVALID, message);
    }
}
