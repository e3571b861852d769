package dev.intervirt.agent.support;

import dev.intervirt.agent.app.AgentConfig;
import dev.intervirt.agent.host.ContainerNetns;
import dev.intervirt.agent.host.Firewall;
import dev.intervirt.agent.host.HostRoutes;
import dev.intervirt.agent.host.Hypervisor;
import dev.intervirt.agent.host.OverlayRootfs;
import dev.intervirt.agent.host.PidLimits;
import dev.intervirt.agent.image.ImageStore;
import dev.intervirt.agent.state.StateStore;
import dev.intervirt.agent.state.Topology;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * Deployed by CDI tests in place of the real host producers: fakes and a temporary state dir.
 * Each fake is produced under its own class, whose bean types include the adapter interface.
 */
@ApplicationScoped
public class FakeHostProducers {

    public static final Path ROOT = createRoot();
    /** Not the default: proves that the configured limit reaches the decoder. */
    public static final int MAX_MESSAGE_BYTES = 10_000;

    private static Path createRoot() {
        try {
            Path root = Files.createTempDirectory("ivcdi");
            Path init = root.resolve("images/debian/trixie/rootfs/sbin/init");
            Files.createDirectories(init.getParent());
            Files.writeString(init, "#!/bin/sh\n");
            Files.setPosixFilePermissions(init, PosixFilePermissions.fromString("rwxr-xr-x"));
            return root;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Produces
    @Singleton
    AgentConfig config() {
        return AgentConfig.defaults().toBuilder().stateDir(ROOT.resolve("state")).maxMessageBytes(MAX_MESSAGE_BYTES).build();
    }

    @Produces
    @Singleton
    FakeHost.FakeHypervisor fakeHypervisor() {
        return new FakeHost.FakeHypervisor();
    }

    @Produces
    @Singleton
    FakeHost.FakeFirewall fakeFirewall() {
        return new FakeHost.FakeFirewall();
    }

    @Produces
    @Singleton
    FakeHost.FakeNetns fakeNetns() {
        return new FakeHost.FakeNetns();
    }

    @Produces
    @Singleton
    HostRoutes routes() {
        return new FakeHost.FakeRoutes();
    }

    @Produces
    @Singleton
    dev.intervirt.agent.host.BridgePorts bridgePorts() {
        return new dev.intervirt.agent.host.BridgePorts() {
            @Override
            public boolean bridgeExists() {
                return true;
            }

            @Override
            public java.util.List<String> unplugged(java.util.Collection<String> ports) {
                return java.util.List.of();
            }

            @Override
            public void plug(String port) {
            }
        };
    }

    @Produces
    @Singleton
    PidLimits pidLimits() {
        return new PidLimits() {
            @Override
            public long max() {
                return 512;
            }

            @Override
            public void apply(String domain, int initPid) {
                // the fake hypervisor's "init" is the test JVM: never limit it
            }

            @Override
            public void release(String domain) {
                // nothing was made
            }
        };
    }

    @Produces
    @Singleton
    OverlayRootfs rootfs(AgentConfig config) {
        return new OverlayRootfs(config.stateDir());
    }

    @Produces
    @Singleton
    ImageStore images() {
        return new ImageStore(ROOT.resolve("images"));
    }

    @Produces
    @Singleton
    Topology topology(AgentConfig config) {
        return new Topology(new StateStore(config.stateDir()), "ivc");
    }

    void closeTopology(@jakarta.enterprise.inject.Disposes Topology topology) {
        topology.close();
    }
}
