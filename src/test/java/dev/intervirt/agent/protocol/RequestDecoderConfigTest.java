package dev.intervirt.agent.protocol;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** The decoder's limit is its endpoint configuration's, and a decoder without one refuses to guess. */
class RequestDecoderConfigTest {

    @Test
    void theLimitComesFromTheEndpointConfiguration() {
        RequestDecoder decoder = RequestDecoders.withLimit(100);
        assertInstanceOf(Inbound.Rejected.class, decoder.decode("x".repeat(100)));
        assertEquals(new Inbound.TooBig(101, 100), decoder.decode("x".repeat(101)));
    }

    @Test
    void aConfigurationWithoutTheLimitFailsAtInit() {
        for (Object missing : new Object[]{null, "65536", 0, -1, 65536L}) {
            RequestDecoder decoder = new RequestDecoder();
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> decoder.init(RequestDecoders.endpointConfig(missing)), () -> "limit " + missing);
            assertTrue(e.getMessage().contains(RequestDecoder.MAX_MESSAGE_BYTES), e.getMessage());
        }
    }

    @Test
    void decodingBeforeInitFails() {
        assertThrows(IllegalStateException.class, () -> new RequestDecoder().decode("{}"));
    }
}
