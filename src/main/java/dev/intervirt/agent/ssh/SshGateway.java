package dev.intervirt.agent.ssh;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.function.Supplier;
import java.util.logging.Logger;

/**
 * The listener behind one forward to a computer's port 22. The forward's DNAT points here; the
 * firewall admits only DNATed connections to it. Each connection goes to the computer's own
 * port 22 if something listens there (a learner's sshd, IntervirtOS's OpenSSH): a computer
 * with nothing on 22 answers with a reset at once. Otherwise the agent's SSH server serves it,
 * bound to this computer.
 */
final class SshGateway implements AutoCloseable {

    /** How long a computer may take to answer on port 22 before the agent's server takes over. */
    static final int PROBE_MILLIS = 1_500;
    private static final Logger LOG = Logger.getLogger(SshGateway.class.getName());

    private final String containerId;
    private final ServerSocket listener;
    private final Supplier<Optional<Computer>> computer;
    private final ComputerSshServer fallback;
    private final ExecutorService threads;

    SshGateway(String containerId, InetAddress bind, Supplier<Optional<Computer>> computer, ComputerSshServer fallback,
               ExecutorService threads) throws IOException {
        this.containerId = containerId;
        this.computer = computer;
        this.fallback = fallback;
        this.threads = threads;
        this.listener = new ServerSocket();
        listener.bind(new InetSocketAddress(bind, 0), 64);
        threads.execute(this::acceptLoop);
    }

    int port() {
        return listener.getLocalPort();
    }

    String containerId() {
        return containerId;
    }

    private void acceptLoop() {
        while (!listener.isClosed()) {
            try {
                Socket client = listener.accept();
                threads.execute(() -> serve(client));
            } catch (IOException e) {
                if (!listener.isClosed()) {
                    LOG.warning("ssh gateway of " + containerId + ": " + e.getMessage());
                }
            }
        }
    }

    private void serve(Socket client) {
        try {
            Optional<Computer> target = computer.get();
            if (target.isEmpty()) {
                LOG.info("ssh gateway: " + containerId + " is not running; connection closed");
                client.close();
                return;
            }
            Socket upstream = ownSshd(target.get());
            if (upstream == null) {
                upstream = fallback.connect(target.get());
            }
            splice(client, upstream);
        } catch (IOException | RuntimeException e) {
            LOG.info("ssh gateway of " + containerId + ": " + e.getMessage());
            closeQuietly(client);
        }
    }

    /** A connection to the computer's own port 22, or null if nothing listens there. */
    private static Socket ownSshd(Computer c) {
        Socket s = new Socket();
        try {
            s.connect(new InetSocketAddress(c.ipv4(), 22), PROBE_MILLIS);
            return s;
        } catch (IOException e) {
            closeQuietly(s);
            return null;
        }
    }

    private void splice(Socket a, Socket b) throws IOException {
        a.setTcpNoDelay(true);
        b.setTcpNoDelay(true);
        threads.execute(() -> copy(a, b));
        threads.execute(() -> copy(b, a));
    }

    /** One direction; EOF is passed on as a half close, and the pair closes when both are done. */
    private static void copy(Socket from, Socket to) {
        byte[] buf = new byte[64 * 1024];
        try {
            InputStream in = from.getInputStream();
            OutputStream out = to.getOutputStream();
            for (int n; (n = in.read(buf)) >= 0; ) {
                out.write(buf, 0, n);
            }
            to.shutdownOutput();
            if (from.isOutputShutdown()) {
                from.close();
                to.close();
            }
        } catch (IOException e) {
            closeQuietly(from);
            closeQuietly(to);
        }
    }

    private static void closeQuietly(Closeable c) {
        try {
            c.close();
        } catch (IOException e) {
            // nothing left to do
        }
    }

    @Override
    public void close() {
        closeQuietly(listener);
    }
}
