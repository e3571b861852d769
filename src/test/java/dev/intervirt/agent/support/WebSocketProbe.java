package dev.intervirt.agent.support;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * Whether an agent really serves on a port. A bare TCP connect is not proof: while nothing
 * listens on a port of the ephemeral range, a connect to it now and then picks that very port
 * as its own source and connects to itself (TCP simultaneous open). CrashRecoveryIT took such a
 * self-connection for "listening" and then failed to reach an agent still reconciling.
 */
public final class WebSocketProbe {

    private WebSocketProbe() {
    }

    /** True once the endpoint answers a WebSocket handshake with 101. */
    public static boolean upgrades(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 200);
            s.setSoTimeout(2000);
            s.getOutputStream().write(("GET /containerManagement HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nUpgrade: websocket\r\n"
                    + "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            byte[] head = new byte[12];
            int n = s.getInputStream().readNBytes(head, 0, head.length);
            return new String(head, 0, n, StandardCharsets.US_ASCII).startsWith("HTTP/1.1 101");
        } catch (IOException e) {
            return false;
        }
    }
}
