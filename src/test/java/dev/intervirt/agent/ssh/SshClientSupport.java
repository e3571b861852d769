package dev.intervirt.agent.ssh;

import org.apache.sshd.client.SshClient;
import org.apache.sshd.client.channel.ChannelExec;
import org.apache.sshd.client.channel.ChannelShell;
import org.apache.sshd.client.channel.ClientChannelEvent;
import org.apache.sshd.client.session.ClientSession;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Map;

/** The desktop client's way in (ContainerSshClient): MINA SSHD, root, the `none` method. */
final class SshClientSupport implements AutoCloseable {

    static final String HOST = "127.0.0.1";
    final SshClient client;

    SshClientSupport() {
        client = SshClient.setUpDefaultClient();
        client.start();
    }

    /** connect(...).verify().session, then auth().verify(), exactly as the client does. */
    ClientSession login(String host, int port) throws IOException {
        ClientSession s = client.connect("root", host, port).verify(Duration.ofSeconds(10)).getSession();
        try {
            s.auth().verify(Duration.ofSeconds(10));
            return s;
        } catch (IOException | RuntimeException e) {
            s.close(true);
            throw e;
        }
    }

    record Exec(int status, String out, String err) {
    }

    static Exec exec(ClientSession s, String command) throws IOException {
        try (ChannelExec ch = s.createExecChannel(command)) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            ch.setOut(out);
            ch.setErr(err);
            ch.open().verify(Duration.ofSeconds(10));
            ch.waitFor(EnumSet.of(ClientChannelEvent.CLOSED), Duration.ofSeconds(120));
            Integer status = ch.getExitStatus();
            return new Exec(status == null ? -1 : status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        }
    }

    /** A PTY shell (xterm, as the client opens it) fed with {@code input}; everything it printed. */
    static String shell(ClientSession s, Map<String, String> env, String input, int columns, int rows) throws IOException {
        try (ChannelShell ch = s.createShellChannel(null, env)) {
            ch.setPtyType("xterm");
            ch.setPtyColumns(columns);
            ch.setPtyLines(rows);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ch.setOut(out);
            ch.setErr(out);
            ch.open().verify(Duration.ofSeconds(10));
            // Typed, not closed: an EOF on a pty session ends it at once with OpenSSH.
            java.io.OutputStream keys = ch.getInvertedIn();
            keys.write(input.getBytes(StandardCharsets.UTF_8));
            keys.flush();
            ch.waitFor(EnumSet.of(ClientChannelEvent.CLOSED), Duration.ofSeconds(60));
            return out.toString(StandardCharsets.UTF_8);
        }
    }

    @Override
    public void close() {
        client.stop();
    }
}
