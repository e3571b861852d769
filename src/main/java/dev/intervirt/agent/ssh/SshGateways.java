package dev.intervirt.agent.ssh;

import dev.intervirt.agent.app.AgentConfig;
import dev.intervirt.agent.concurrent.DaemonThreads;
import dev.intervirt.agent.container.InitPids;
import dev.intervirt.agent.host.NftFirewall;
import dev.intervirt.agent.protocol.AgentException;
import dev.intervirt.agent.state.ContainerRecord;
import dev.intervirt.agent.state.Topology;
import dev.intervirt.agent.value.Protocol;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * SSH for every computer: one {@link SshGateway} per forward to a computer's TCP port 22, on the
 * agent's gateway address {@value NftFirewall#GATEWAY_IPV4} (containers cannot reach it: the
 * firewall drops their traffic to the guest; from elsewhere only DNATed connections pass), and
 * the agent's own SSH server for computers without an sshd, started with the first gateway.
 */
@ApplicationScoped
public class SshGateways {

    /** The internal port whose forwards go through a gateway. */
    public static final int SSH_PORT = 22;

    private final Map<Integer, SshGateway> byExternalPort = new ConcurrentHashMap<>();
    private final ExecutorService threads = Executors.newCachedThreadPool(DaemonThreads.named("ssh-gateway"));
    private Topology topology;
    private InitPids pids;
    private Path stateDir;
    private ComputerSshServer server;

    protected SshGateways() {
        // for CDI proxies
    }

    @Inject
    public SshGateways(Topology topology, InitPids pids, AgentConfig config) {
        this.topology = topology;
        this.pids = pids;
        this.stateDir = config.stateDir();
    }

    /** Whether a forward goes through a gateway instead of straight to the computer. */
    public static boolean handles(Protocol protocol, int internalPort) {
        return protocol == Protocol.TCP && internalPort == SSH_PORT;
    }

    /** The address the DNAT of such a forward points to. */
    public static java.net.Inet4Address address() {
        try {
            return (java.net.Inet4Address) InetAddress.getByName(NftFirewall.GATEWAY_IPV4);
        } catch (java.net.UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Prepares what computers mount (the SFTP server); run before any computer starts. */
    public void prepareTools() {
        ComputerTools.ensure(stateDir);
    }

    /** The gateway port of the forward on {@code externalPort}, opened if needed. */
    public synchronized int open(int externalPort, String containerId) {
        SshGateway g = byExternalPort.get(externalPort);
        if (g != null && g.containerId().equals(containerId)) {
            return g.port();
        }
        close(externalPort);
        try {
            g = new SshGateway(containerId, address(), () -> running(containerId), server(), threads);
        } catch (IOException e) {
            throw AgentException.guest("Cannot open the SSH gateway of " + containerId + " on "
                    + NftFirewall.GATEWAY_IPV4 + ": " + e.getMessage() + " (the agent's bridge carries that address;"
                    + " restart the agent to recreate it).", e);
        }
        byExternalPort.put(externalPort, g);
        return g.port();
    }

    /** Closes the gateway of a forward (no error if there is none); open sessions stay. */
    public synchronized void close(int externalPort) {
        SshGateway g = byExternalPort.remove(externalPort);
        if (g != null) {
            g.close();
        }
    }

    @PreDestroy
    public synchronized void closeAll() {
        byExternalPort.values().forEach(SshGateway::close);
        byExternalPort.clear();
        if (server != null) {
            server.close();
            server = null;
        }
    }

    private synchronized ComputerSshServer server() {
        if (server == null) {
            server = new ComputerSshServer(stateDir.resolve("ssh_host_ecdsa_key"));
        }
        return server;
    }

    private Optional<Computer> running(String containerId) {
        Optional<ContainerRecord> c = topology.find(containerId);
        if (c.isEmpty()) {
            return Optional.empty();
        }
        OptionalInt pid = pids.of(c.get());
        return pid.isPresent() ? Optional.of(new Computer(containerId, c.get().ipv4(), pid.getAsInt())) : Optional.empty();
    }
}
