package dev.intervirt.agent.app;

import dev.intervirt.agent.dispatch.StepTimer;
import dev.intervirt.agent.endpoint.ContainerManagementEndpoint;
import dev.intervirt.agent.protocol.AgentException;
import dev.intervirt.agent.state.Reconciler;
import jakarta.websocket.DeploymentException;
import org.glassfish.tyrus.server.Server;
import org.jboss.weld.environment.se.Weld;
import org.jboss.weld.environment.se.WeldContainer;

import java.io.IOException;
import java.net.ServerSocket;
import java.util.HashMap;
import java.util.Map;
import java.util.logging.Logger;

/**
 * The standalone jar's container: Weld SE (whose start runs {@link AgentLifecycle}: libvirt, the
 * host state, the network watch), then the Tyrus WebSocket server (it asks CDI for the endpoint).
 * Each failure that makes a start pointless is one clear line.
 */
public final class AgentServer {

    private static final Logger LOG = Logger.getLogger(AgentServer.class.getName());

    /** A start that cannot work, with the line to print. */
    public static final class StartupException extends Exception {
        public StartupException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** Every CDI bean of the standalone agent. */
    static final Class<?>[] BEAN_CLASSES = {
            HostProducers.class,
            dev.intervirt.agent.endpoint.ContainerManagementEndpoint.class,
            dev.intervirt.agent.dispatch.RequestDispatcher.class,
            // One handler per request type (the dispatcher refuses to start without all of them).
            dev.intervirt.agent.dispatch.handler.AddContainerHandler.class,
            dev.intervirt.agent.dispatch.handler.StartContainerHandler.class,
            dev.intervirt.agent.dispatch.handler.StopContainerHandler.class,
            dev.intervirt.agent.dispatch.handler.RemoveContainerHandler.class,
            dev.intervirt.agent.dispatch.handler.SetIpv4Handler.class,
            dev.intervirt.agent.dispatch.handler.SetIpv6Handler.class,
            dev.intervirt.agent.dispatch.handler.ConnectHandler.class,
            dev.intervirt.agent.dispatch.handler.DisconnectHandler.class,
            dev.intervirt.agent.dispatch.handler.SetInternetAccessHandler.class,
            dev.intervirt.agent.dispatch.handler.AddPortForwardingHandler.class,
            dev.intervirt.agent.dispatch.handler.RemovePortForwardingHandler.class,
            dev.intervirt.agent.dispatch.handler.GuestCommandHandler.class,
            dev.intervirt.agent.container.ContainerService.class,
            dev.intervirt.agent.container.InitPids.class,
            dev.intervirt.agent.container.RestartWatcher.class,
            dev.intervirt.agent.network.NetworkService.class,
            dev.intervirt.agent.ssh.SshGateways.class,
            dev.intervirt.agent.guest.GuestService.class,
            Reconciler.class,
            dev.intervirt.agent.state.NetworkWatch.class,
            AgentLifecycle.class,
    };

    /** How long a builder gets to clean up (unmount, remove its temporary tree) after SIGTERM. */
    private static final java.time.Duration HELPER_GRACE = java.time.Duration.ofSeconds(5);

    private static final String WELD_NO_XML_VALIDATION = "org.jboss.weld.xml.disableValidating";

    private final AgentConfig config;
    private WeldContainer weld;
    private Server server;
    private int port;

    public AgentServer(AgentConfig config) {
        this.config = config;
    }

    public void start() throws StartupException {
        long t0 = System.nanoTime();
        if (!AgentLifecycle.isRoot()) {
            throw new StartupException("must run as root (it manages containers, mounts and nftables).", null);
        }
        if (!portFree(config.port())) {
            throw new StartupException("port " + config.port() + " is already in use (another agent running?).", null);
        }
        StepTimer steps = new StepTimer("server start");
        // No XML Schema validation of beans.xml files (the beans are listed below): compiling the
        // schemas loads ~340 classes, seconds of the appliance's start under emulation. Weld reads
        // this key where it parses beans.xml, from the system properties only.
        System.setProperty(WELD_NO_XML_VALIDATION, System.getProperty(WELD_NO_XML_VALIDATION, "true"));
        // The beans, listed: no scanning (a shaded jar costs seconds to scan, and package scans
        // miss classes when a package is split over several class path entries); the parsed
        // configuration is one of them. Their start is AgentLifecycle's, on the container's own
        // @Initialized event.
        try {
            weld = new Weld("intervirt-agent").disableDiscovery().addBeanClasses(BEAN_CLASSES)
                    .addExtension(new StandaloneConfig(config))
                    .property("org.jboss.weld.construction.relaxed", true)
                    // Our own hook stops the agent in order (helpers first); Weld's would shut CDI
                    // down beside it, and the stop could then reach none of the beans.
                    .property(Weld.SHUTDOWN_HOOK_SYSTEM_PROPERTY, false)
                    .initialize();
        } catch (RuntimeException e) {
            AgentException reason = agentCause(e);
            if (reason == null) {
                throw e;
            }
            throw new StartupException(reason.getMessage(), reason);
        }
        steps.lap("cdi (with the agent's start)");
        Map<String, Object> props = new HashMap<>();
        // Tyrus's read buffer holds the unparsed rest of one frame plus what one socket read brings
        // (up to the socket's receive buffer): sized to the limit only, a client pipelining large
        // messages overflowed it and lost its connection ("Buffer overflow"). Messages over the
        // limit are closed with 1009 by the endpoint; frames over this buffer by Tyrus.
        props.put(org.glassfish.tyrus.core.TyrusWebSocketEngine.INCOMING_BUFFER_SIZE, incomingBufferBytes(config.maxMessageBytes()));
        server = new Server("0.0.0.0", config.port(), "/", props, ContainerManagementEndpoint.class);
        try {
            server.start();
        } catch (DeploymentException e) {
            throw new StartupException("cannot listen on port " + config.port() + ": " + rootCause(e), e);
        }
        port = config.port();
        steps.lap("websocket");
        steps.log(LOG);
        // The JVM's own start is part of the appliance's boot time: both, to tell them apart.
        LOG.info(String.format("listening on ws://0.0.0.0:%d/containerManagement (started in %d ms, JVM up %d ms)", port,
                (System.nanoTime() - t0) / 1_000_000, java.lang.management.ManagementFactory.getRuntimeMXBean().getUptime()));
    }

    /** The agent's own reason inside whatever the CDI container wrapped it in. */
    private static AgentException agentCause(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (c instanceof AgentException a) {
                return a;
            }
        }
        return null;
    }

    /** Two messages and a socket read of up to 1 MiB. */
    static int incomingBufferBytes(int maxMessageBytes) {
        return (int) Math.min(Integer.MAX_VALUE, 2L * maxMessageBytes + (1 << 20));
    }

    public int port() {
        return port;
    }

    /** Stops listening, then the container: AgentLifecycle's stop runs on its @BeforeDestroyed event. */
    public void stop() {
        if (server != null) {
            server.stop();
            server = null;
        }
        if (weld != null && weld.isRunning()) {
            weld.shutdown();
        }
        weld = null;
    }

    private static boolean portFree(int port) {
        try (ServerSocket s = new ServerSocket(port)) {
            s.setReuseAddress(true);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static String rootCause(Throwable t) {
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t.getMessage();
    }
}
