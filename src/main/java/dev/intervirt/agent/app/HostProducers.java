package dev.intervirt.agent.app;

import dev.intervirt.agent.host.ContainerNetns;
import dev.intervirt.agent.host.Firewall;
import dev.intervirt.agent.host.HostRoutes;
import dev.intervirt.agent.host.Hypervisor;
import dev.intervirt.agent.host.LibvirtHypervisor;
import dev.intervirt.agent.host.NetlinkHostRoutes;
import dev.intervirt.agent.host.NetlinkNetns;
import dev.intervirt.agent.host.NftFirewall;
import dev.intervirt.agent.host.OverlayRootfs;
import dev.intervirt.agent.host.CgroupPidLimits;
import dev.intervirt.agent.host.PidLimits;
import dev.intervirt.agent.image.ImageStore;
import dev.intervirt.agent.state.StateStore;
import dev.intervirt.agent.state.Topology;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Disposes;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

/**
 * The host adapters and the state, made from the configuration (the bean {@link AgentConfig}:
 * {@link StandaloneConfig} in the jar, {@code war.RuntimeConfigProducer} in the WAR). Tests
 * replace the adapters with fakes by deploying their own producers instead of this class.
 */
@ApplicationScoped
public class HostProducers {

    @Produces
    @Singleton
    Hypervisor hypervisor(AgentConfig config) {
        return new LibvirtHypervisor(config.libvirtUri(), config.ownerName(), config.bridge(), config.domainPrefix(),
                config.favorCgroupMoves());
    }

    @Produces
    @Singleton
    Firewall firewall(AgentConfig config) {
        return new NftFirewall(config.ownerName(), config.bridge(), config.portPrefix(), config.port());
    }

    /** In-process rtnetlink; {@code NsenterNetns} is the documented fallback (one process per step). */
    @Produces
    @Singleton
    ContainerNetns netns() {
        return new NetlinkNetns();
    }

    /** In-process rtnetlink; {@code IpHostRoutes} is the documented fallback. */
    @Produces
    @Singleton
    HostRoutes routes(AgentConfig config) {
        return new NetlinkHostRoutes(config.bridge());
    }

    /** When the agent stops: the namespace sockets are closed; containers and their routes stay. */
    void closeNetns(@Disposes ContainerNetns netns) {
        netns.close();
    }

    void closeRoutes(@Disposes HostRoutes routes) {
        routes.close();
    }

    @Produces
    @Singleton
    dev.intervirt.agent.host.BridgePorts bridgePorts(AgentConfig config) {
        return new dev.intervirt.agent.host.SysfsBridgePorts(config.bridge());
    }

    @Produces
    @Singleton
    PidLimits pidLimits(AgentConfig config) {
        return new CgroupPidLimits(config.ownerName(), config.pidsMax());
    }

    @Produces
    @Singleton
    OverlayRootfs rootfs(AgentConfig config) {
        return new OverlayRootfs(config.stateDir());
    }

    @Produces
    @Singleton
    ImageStore images(AgentConfig config) {
        return new ImageStore(config.imageDir(), config.images());
    }

    @Produces
    @Singleton
    Topology topology(AgentConfig config) {
        return new Topology(new StateStore(config.stateDir(), config.flushBeforeReply()), config.portPrefix());
    }

    void closeTopology(@Disposes Topology topology) {
        topology.close();
    }
}
