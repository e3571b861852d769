package dev.intervirt.agent.ssh;

import org.apache.sshd.common.AttributeRepository.AttributeKey;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.session.Session;
import org.apache.sshd.common.session.SessionListener;
import org.apache.sshd.server.SshServer;
import org.apache.sshd.server.auth.password.UserAuthPasswordFactory;
import org.apache.sshd.server.channel.ChannelSession;
import org.apache.sshd.server.forward.RejectAllForwardingFilter;
import org.apache.sshd.server.keyprovider.SimpleGeneratorHostKeyProvider;
import org.apache.sshd.server.session.ServerSession;
import org.apache.sshd.server.subsystem.SubsystemFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Logger;

/**
 * The agent's SSH server for computers without an sshd of their own (Apache MINA SSHD). It
 * listens on the guest's loopback only, and serves nothing but connections the gateway opened
 * for one computer: the gateway binds its local port first and registers it here
 * ({@link #connect}), and a session from any other port is closed as soon as it is created,
 * before any login. Logins: {@code root} with {@code none} or the empty password. Shell, exec and the
 * {@code sftp} subsystem run inside that computer (see {@link ComputerLauncher}); port, agent
 * and X11 forwarding are refused.
 */
final class ComputerSshServer implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(ComputerSshServer.class.getName());
    private static final AttributeKey<Computer> COMPUTER = new AttributeKey<>();
    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

    private final SshServer server;
    /** Local port of a gateway connection → the computer it serves. */
    private final Map<Integer, Computer> pending = new ConcurrentHashMap<>();

    ComputerSshServer(Path hostKey) {
        this(hostKey, ComputerTools.sftpServerCommand());
    }

    /** @param sftpServer the SFTP server's argument list as seen inside a computer */
    ComputerSshServer(Path hostKey, List<String> sftpServer) {
        server = SshServer.setUpDefaultServer();
        server.setHost(LOOPBACK.getHostAddress());
        server.setPort(0);
        SimpleGeneratorHostKeyProvider keys = new SimpleGeneratorHostKeyProvider(hostKey);
        keys.setAlgorithm(KeyUtils.EC_ALGORITHM);
        keys.setKeySize(256);
        server.setKeyPairProvider(keys);
        server.setUserAuthFactories(List.of(RootOnlyNoneAuth.INSTANCE, UserAuthPasswordFactory.INSTANCE));
        server.setPasswordAuthenticator((user, password, session) -> "root".equals(user) && "".equals(password));
        server.setPublickeyAuthenticator(null);
        server.setKeyboardInteractiveAuthenticator(null);
        server.setGSSAuthenticator(null);
        server.setHostBasedAuthenticator(null);
        server.setForwardingFilter(RejectAllForwardingFilter.INSTANCE);
        server.setAgentFactory(null);
        server.setShellFactory(channel -> new ComputerCommand(computerOf(channel), ComputerLauncher::loginShell, true));
        server.setCommandFactory((channel, command) -> new ComputerCommand(computerOf(channel),
                c -> ComputerLauncher.shellCommand(c, command), true));
        server.setSubsystemFactories(List.of(new SubsystemFactory() {
            @Override
            public String getName() {
                return "sftp";
            }

            @Override
            public org.apache.sshd.server.command.Command createSubsystem(ChannelSession channel) {
                return new ComputerCommand(computerOf(channel),
                        c -> ComputerLauncher.program(c, sftpServer), false);
            }
        }));
        server.addSessionListener(new SessionListener() {
            @Override
            public void sessionCreated(Session session) {
                Computer c = claim(session.getIoSession().getRemoteAddress());
                if (c == null) {
                    LOG.warning("ssh: connection from " + session.getIoSession().getRemoteAddress() + " did not come through a gateway; closed");
                    session.close(true);
                } else {
                    session.setAttribute(COMPUTER, c);
                }
            }
        });
        try {
            server.start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start the computers' SSH server", e);
        }
        LOG.info("ssh: computers' SSH server on 127.0.0.1:" + server.getPort());
    }

    /** Opens a loopback connection that the server will serve for {@code computer}. */
    Socket connect(Computer computer) throws IOException {
        Socket s = new Socket();
        try {
            s.bind(new InetSocketAddress(LOOPBACK, 0));
            pending.put(s.getLocalPort(), computer);
            s.connect(new InetSocketAddress(LOOPBACK, server.getPort()), 5_000);
            return s;
        } catch (IOException e) {
            pending.remove(s.getLocalPort());
            s.close();
            throw e;
        }
    }

    private Computer claim(SocketAddress client) {
        if (client instanceof InetSocketAddress a && a.getAddress().isLoopbackAddress()) {
            return pending.remove(a.getPort());
        }
        return null;
    }

    private static Computer computerOf(ChannelSession channel) {
        ServerSession session = channel.getServerSession();
        Computer c = session.getAttribute(COMPUTER);
        if (c == null) {
            throw new IllegalStateException("session without computer");
        }
        return c;
    }

    int port() {
        return server.getPort();
    }

    @Override
    public void close() {
        try {
            server.stop(true);
        } catch (IOException e) {
            LOG.warning("ssh: stopping the SSH server: " + e.getMessage());
        }
    }
}
