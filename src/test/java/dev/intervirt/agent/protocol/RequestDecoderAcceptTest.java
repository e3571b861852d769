package dev.intervirt.agent.protocol;

import dev.intervirt.agent.protocol.Request.*;
import dev.intervirt.agent.value.ImageName;
import dev.intervirt.agent.value.MacAddress;
import dev.intervirt.agent.value.Protocol;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

import java.net.InetAddress;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** Every request type decodes, in the spec's form and in the deployed client's form. */
class RequestDecoderAcceptTest {

    static final String UUID = "0b6c7f0e-3c1d-4b8e-9a55-2f7d1e6c9b01";

    static Request valid(String text) {
        Inbound in = RequestDecoders.withDefaultLimit().decode(text);
        Inbound.Valid v = assertInstanceOf(Inbound.Valid.class, in, () -> "expected Valid for " + text + ", got " + in);
        assertEquals(UUID, v.request().uuid());
        return v.request();
    }

    static InetAddress ip(String literal) throws Exception {
        return InetAddress.getByName(literal);
    }

    @Test
    void addContainerInTheClientsForm() throws Exception {
        Request r = valid("{\"type\":\"AddContainer\",\"uuid\":\"" + UUID + "\",\"id\":\"computer-93281\","
                + "\"ipv4\":\"192.168.7.12\",\"ipv6\":\"fd3:a:1f::5\",\"mac\":\"a:5b:2:67:c:ff\",\"internet\":false,"
                + "\"image\":\"debian/13\"}");
        AddContainer a = assertInstanceOf(AddContainer.class, r);
        assertEquals("computer-93281", a.id());
        assertEquals(ip("192.168.7.12"), a.ipv4());
        assertEquals(ip("fd3:a:1f:0:0:0:0:5"), a.ipv6());
        assertEquals("0a:5b:02:67:0c:ff", a.mac().canonical());
        assertNull(a.requestedMac(), "a unicast MAC is used as sent");
        assertFalse(a.internet());
        assertEquals(new ImageName("debian", "13"), a.image());
        assertEquals("AddContainer", a.typeName());
        assertEquals(List.of("computer-93281"), a.containerIds());
    }

    @Test
    void addContainerInTheSpecsForm() throws Exception {
        AddContainer a = assertInstanceOf(AddContainer.class, valid("{\"type\":\"AddContainer\",\"uuid\":\"" + UUID + "\","
                + "\"id\":\"computer-93281\",\"ipv4\":\"192.168.0.145\","
                + "\"ipv6\":\"fd00:3452:2312:ab32:cdaa:4444:aaaa:bcda\",\"mac\":\"2A:5B:22:67:67:67\","
                + "\"internet\":true,\"image\":\"debian/trixie\"}"));
        assertEquals(ip("192.168.0.145"), a.ipv4());
        assertEquals(ip("fd00:3452:2312:ab32:cdaa:4444:aaaa:bcda"), a.ipv6());
        assertEquals("2a:5b:22:67:67:67", a.mac().canonical(), "upper case is normalised");
        assertTrue(a.internet());
        assertEquals("debian/trixie", a.image().toString());
    }

    @Test
    void groupBitMacIsClearedAndTheRequestedOneKept() {
        AddContainer a = assertInstanceOf(AddContainer.class, valid(addContainerWithMac("b:5b:2:67:c:ff")));
        assertEquals("0a:5b:02:67:0c:ff", a.mac().canonical());
        assertEquals("0b:5b:02:67:0c:ff", a.requestedMac().canonical());
        assertFalse(a.mac().isGroup());
    }

    @Test
    void multicastMacOtherThanBroadcastIsMadeUnicast() {
        AddContainer a = assertInstanceOf(AddContainer.class, valid(addContainerWithMac("01:00:5e:00:00:fb")));
        assertEquals("00:00:5e:00:00:fb", a.mac().canonical());
        assertEquals(new MacAddress("01:00:5e:00:00:fb"), a.requestedMac());
    }

    @Test
    void imageNameIsCaseInsensitive() {
        // Image server names are lower case; the parser lower-cases what the client sends.
        AddContainer a = assertInstanceOf(AddContainer.class, valid(addContainerWith("\"image\":\"Debian/13\"")));
        assertEquals(new ImageName("debian", "13"), a.image());
    }

    @Test
    void networkEdgeAddressesAreHostAddressesToo() throws Exception {
        AddContainer a0 = assertInstanceOf(AddContainer.class, valid(addContainerWith("\"ipv4\":\"192.168.0.0\"")));
        assertEquals(ip("192.168.0.0"), a0.ipv4());
        AddContainer a255 = assertInstanceOf(AddContainer.class, valid(addContainerWith("\"ipv4\":\"192.168.0.255\"")));
        assertEquals(ip("192.168.0.255"), a255.ipv4());
    }

    @ParameterizedTest
    @CsvSource({"RemoveContainer", "StartContainer", "StopContainer"})
    void singleIdRequests(String type) {
        Request r = valid("{\"type\":\"" + type + "\",\"uuid\":\"" + UUID + "\",\"id\":\"computer-1\"}");
        assertEquals(type, r.typeName());
        assertEquals(List.of("computer-1"), r.containerIds());
        switch (type) {
            case "RemoveContainer" -> assertEquals(new RemoveContainer(UUID, "computer-1"), r);
            case "StartContainer" -> assertEquals(new StartContainer(UUID, "computer-1"), r);
            case "StopContainer" -> assertEquals(new StopContainer(UUID, "computer-1"), r);
            default -> fail(type);
        }
    }

    /** The address as the client names it (newIpv4, newIpv6) and as the spec does (newIP). */
    @ParameterizedTest
    @CsvSource({
            "IDWithNewIpv4, computer-1, newIpv4, 192.168.9.8",
            "IDWithNewIpv4, computer-93281, newIP, 192.168.0.133",
            "IDWithNewIpv6, computer-1, newIpv6, fd12:3:4::9",
            "IDWithNewIpv6, computer-93281, newIP, fd00:3452:2312:ab32:cdaa:4444:bbbb:bcda"})
    void setAddressUnderEitherFieldName(String type, String id, String field, String address) throws Exception {
        Request r = valid("{\"type\":\"" + type + "\",\"uuid\":\"" + UUID + "\",\"id\":\"" + id + "\",\"" + field + "\":\""
                + address + "\"}");
        InetAddress decoded = type.endsWith("Ipv4") ? assertInstanceOf(SetIpv4.class, r).address()
                : assertInstanceOf(SetIpv6.class, r).address();
        assertEquals(ip(address), decoded);
        assertEquals(id, ((ForContainer) r).id());
        assertEquals(type, r.typeName());
    }

    @Test
    void setIpv4BothFieldsEqualIsFine() throws Exception {
        SetIpv4 s = assertInstanceOf(SetIpv4.class, valid("{\"type\":\"IDWithNewIpv4\",\"uuid\":\"" + UUID
                + "\",\"id\":\"computer-1\",\"newIP\":\"10.0.0.5\",\"newIpv4\":\"10.0.0.5\"}"));
        assertEquals(ip("10.0.0.5"), s.address());
    }

    @Test
    void connectAndDisconnect() {
        Connect c = assertInstanceOf(Connect.class, valid("{\"type\":\"Connect\",\"uuid\":\"" + UUID
                + "\",\"id1\":\"computer-93281\",\"id2\":\"computer-31222\"}"));
        assertEquals(new Connect(UUID, "computer-93281", "computer-31222"), c);
        assertEquals(List.of("computer-93281", "computer-31222"), c.containerIds());
        Disconnect d = assertInstanceOf(Disconnect.class, valid("{\"type\":\"Disconnect\",\"uuid\":\"" + UUID
                + "\",\"id1\":\"computer-93281\",\"id2\":\"computer-31222\"}"));
        assertEquals(new Disconnect(UUID, "computer-93281", "computer-31222"), d);
        assertEquals(List.of("computer-93281", "computer-31222"), d.containerIds());
    }

    @Test
    void setInternetAccess() {
        assertEquals(new SetInternetAccess(UUID, "computer-1", true), valid("{\"type\":\"SetInternetAccess\",\"uuid\":\""
                + UUID + "\",\"id\":\"computer-1\",\"enabled\":true}"));
        assertEquals(new SetInternetAccess(UUID, "computer-1", false), valid("{\"type\":\"SetInternetAccess\",\"uuid\":\""
                + UUID + "\",\"id\":\"computer-1\",\"enabled\":false}"));
    }

    @Test
    void addPortForwarding() {
        assertEquals(new AddPortForwarding(UUID, "computer-93281", 80, 8080, Protocol.TCP),
                valid("{\"type\":\"AddPortForwarding\",\"uuid\":\"" + UUID + "\",\"id\":\"computer-93281\","
                        + "\"internalPort\":80,\"externalPort\":8080,\"protocol\":\"tcp\"}"));
        assertEquals(new AddPortForwarding(UUID, "computer-1", 1, 65535, Protocol.UDP),
                valid("{\"type\":\"AddPortForwarding\",\"uuid\":\"" + UUID + "\",\"id\":\"computer-1\","
                        + "\"internalPort\":1,\"externalPort\":65535,\"protocol\":\"udp\"}"));
    }

    @Test
    void protocolIsCaseInsensitive() {
        assertEquals(new AddPortForwarding(UUID, "computer-1", 22, 2222, Protocol.TCP),
                valid("{\"type\":\"AddPortForwarding\",\"uuid\":\"" + UUID + "\",\"id\":\"computer-1\","
                        + "\"internalPort\":22,\"externalPort\":2222,\"protocol\":\"TCP\"}"));
    }

    @Test
    void removePortForwarding() {
        Request r = valid("{\"type\":\"RemovePortForwarding\",\"uuid\":\"" + UUID
                + "\",\"externalPort\":8080,\"protocol\":\"udp\"}");
        assertEquals(new RemovePortForwarding(UUID, 8080, Protocol.UDP), r);
        assertEquals(List.of(), r.containerIds());
    }

    @ParameterizedTest
    @EnumSource(Command.class)
    void everyCommand(Command command) {
        Request r = valid("{\"type\":\"Command\",\"uuid\":\"" + UUID + "\",\"command\":\"" + command.wireName() + "\"}");
        assertEquals(new GuestCommand(UUID, command), r);
        assertEquals("Command/" + command.wireName(), r.typeName());
        assertEquals(List.of(), r.containerIds());
    }

    @Test
    void commandWireNames() {
        assertEquals(List.of("wipe", "update", "shutdown", "reboot", "version"),
                java.util.Arrays.stream(Command.values()).map(Command::wireName).toList());
    }

    @Test
    void unknownExtraFieldsAreIgnored() {
        assertEquals(new StartContainer(UUID, "computer-1"), valid("{\"type\":\"StartContainer\",\"uuid\":\"" + UUID
                + "\",\"id\":\"computer-1\",\"extra\":[1,2,{\"x\":null}]}"));
    }

    @Test
    void idsOfTheClientAndOtherLegalIds() {
        for (String id : List.of("computer-0", "computer-999998", "a", "_x", "A.b-c_D", "9", "x".repeat(63))) {
            assertEquals(new StartContainer(UUID, id),
                    valid("{\"type\":\"StartContainer\",\"uuid\":\"" + UUID + "\",\"id\":\"" + id + "\"}"), id);
        }
    }

    @Test
    void decoderAlwaysWillDecode() {
        assertTrue(RequestDecoders.withDefaultLimit().willDecode("not json"));
    }

    static String addContainerWithMac(String mac) {
        return addContainerWith("\"mac\":\"" + mac + "\"");
    }

    /** A valid AddContainer with one field replaced (or added) by {@code field}, a {@code "key":value} pair. */
    static String addContainerWith(String field) {
        String key = field.substring(0, field.indexOf(':'));
        StringBuilder sb = new StringBuilder("{\"type\":\"AddContainer\",\"uuid\":\"" + UUID + "\"");
        String[][] base = {
                {"\"id\"", "\"computer-93281\""},
                {"\"ipv4\"", "\"192.168.7.12\""},
                {"\"ipv6\"", "\"fd3:a:1f::5\""},
                {"\"mac\"", "\"a:5b:2:67:c:ff\""},
                {"\"internet\"", "false"},
                {"\"image\"", "\"debian/13\""}};
        boolean replaced = false;
        for (String[] kv : base) {
            if (kv[0].equals(key)) {
                sb.append(',').append(field);
                replaced = true;
            } else {
                sb.append(',').append(kv[0]).append(':').append(kv[1]);
            }
        }
        if (!replaced) {
            sb.append(',').append(field);
        }
        return sb.append('}').toString();
    }
}
