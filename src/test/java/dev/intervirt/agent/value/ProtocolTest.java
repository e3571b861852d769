package dev.intervirt.agent.value;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.*;

class ProtocolTest {

    @Test
    void parsesCaseInsensitively() {
        assertEquals(Protocol.TCP, Protocol.parse("tcp"));
        assertEquals(Protocol.TCP, Protocol.parse("TCP"));
        assertEquals(Protocol.TCP, Protocol.parse("Tcp"));
        assertEquals(Protocol.UDP, Protocol.parse("udp"));
        assertEquals(Protocol.UDP, Protocol.parse("UDP"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"icmp", "sctp", "", " tcp", "tcp ", "tcp/udp", "6", "t\u0000cp"})
    void refusesOthers(String text) {
        assertNull(Protocol.parse(text));
    }

    @Test
    void nullIsRefused() {
        assertNull(Protocol.parse(null));
    }

    @Test
    void wireNames() {
        assertEquals("tcp", Protocol.TCP.wireName());
        assertEquals("udp", Protocol.UDP.wireName());
    }
}
