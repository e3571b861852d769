package dev.intervirt.agent.support;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.core.DefaultDockerClientConfig;
import com.github.dockerjava.core.DockerClientImpl;
import com.github.dockerjava.zerodep.ZerodepDockerHttpClient;
import com.jcraft.jsch.ChannelExec;
import com.jcraft.jsch.ChannelSftp;
import com.jcraft.jsch.JSchException;
import com.jcraft.jsch.Session;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.time.Duration;

/**
 * Docker inside a computer as the desktop client reaches it: an SSH session to a forwarded
 * port as {@code root} with the empty password, and every Docker API connection is
 * {@code docker system dial-stdio} on an exec channel of that session (what the client's
 * {@code JschDockerHttpClient} does). The client's JSch transport is not on Maven Central, so
 * docker-java's own HTTP client talks to a loopback socket whose every connection is relayed to
 * such a channel, byte for byte.
 */
public final class DockerOverSsh implements AutoCloseable {

    private final Session session;
    private final ServerSocket relay;
    private final DockerClient docker;

    private DockerOverSsh(Session session) throws IOException {
        this.session = session;
        this.relay = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread acceptor = new Thread(this::acceptLoop, "dial-stdio relay " + relay.getLocalPort());
        acceptor.setDaemon(true);
        acceptor.start();
        URI host = URI.create("tcp://127.0.0.1:" + relay.getLocalPort());
        DefaultDockerClientConfig config = DefaultDockerClientConfig.createDefaultConfigBuilder()
                .withDockerHost(host.toString()).withDockerTlsVerify(false).build();
        ZerodepDockerHttpClient http = new ZerodepDockerHttpClient.Builder().dockerHost(host)
                .connectionTimeout(Duration.ofSeconds(10)).responseTimeout(Duration.ofSeconds(60)).build();
        this.docker = DockerClientImpl.getInstance(config, http);
    }

    /** Logs in as root with the empty password on {@code port} of the guest's loopback. */
    public static DockerOverSsh connect(int port) throws JSchException, IOException {
        return new DockerOverSsh(login(port));
    }

    /**
     * Logs in on {@code port} until dockerd answers a ping (the computer boots meanwhile), trying
     * again every {@code retry}; fails after {@code patience}.
     */
    public static DockerOverSsh await(int port, java.time.Duration patience, java.time.Duration retry) throws Exception {
        long deadline = System.nanoTime() + patience.toNanos();
        Exception last = null;
        while (System.nanoTime() < deadline) {
            DockerOverSsh ssh = null;
            try {
                ssh = connect(port);
                ssh.docker().pingCmd().exec();
                return ssh;
            } catch (Exception e) {
                last = e;
                if (ssh != null) {
                    ssh.close();
                }
                Thread.sleep(retry.toMillis());
            }
        }
        throw new AssertionError("dockerd did not answer over SSH within " + patience.toSeconds() + " s", last);
    }

    public static Session login(int port) throws JSchException {
        return JschLogin.rootOnLoopback(port, 10_000).open();
    }

    /** The loopback port whose connections are relayed to dial-stdio (for other HTTP clients). */
    public int relayPort() {
        return relay.getLocalPort();
    }

    public DockerClient docker() {
        return docker;
    }

    /** An SFTP channel of the same session (the client makes /opt/intervirt/NAME/ with it). */
    public ChannelSftp sftp() throws JSchException {
        ChannelSftp sftp = (ChannelSftp) session.openChannel("sftp");
        sftp.connect(10_000);
        return sftp;
    }

    /** Runs a command on an exec channel; returns its exit code and output. */
    public String exec(String command) throws Exception {
        JschLogin.Output result = JschLogin.exec(session, command, 10_000, Duration.ofSeconds(60), true);
        return result.exit() + ":" + result.out();
    }

    private void acceptLoop() {
        while (!relay.isClosed()) {
            try {
                Socket s = relay.accept();
                Thread t = new Thread(() -> relay(s), "dial-stdio");
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                return;
            }
        }
    }

    private void relay(Socket socket) {
        ChannelExec channel = null;
        try (socket) {
            channel = (ChannelExec) session.openChannel("exec");
            channel.setCommand("docker system dial-stdio");
            InputStream fromDocker = channel.getInputStream();
            OutputStream toDocker = channel.getOutputStream();
            channel.connect(10_000);
            InputStream fromClient = socket.getInputStream();
            OutputStream toClient = socket.getOutputStream();
            Thread up = new Thread(() -> pump(fromClient, toDocker), "dial-stdio up");
            up.setDaemon(true);
            up.start();
            pump(fromDocker, toClient);
        } catch (JSchException | IOException e) {
            // the client sees its connection closed
        } finally {
            if (channel != null) {
                channel.disconnect();
            }
        }
    }

    private static void pump(InputStream in, OutputStream out) {
        byte[] buf = new byte[64 * 1024];
        try (out) {
            int n;
            while ((n = in.read(buf)) >= 0) {
                out.write(buf, 0, n);
                out.flush();
            }
        } catch (IOException e) {
            // one side closed
        }
    }

    @Override
    public void close() {
        try {
            docker.close();
        } catch (IOException e) {
            // closing anyway
        }
        try {
            relay.close();
        } catch (IOException e) {
            // closing anyway
        }
        session.disconnect();
    }
}
