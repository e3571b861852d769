package dev.intervirt.agent.app;

import dev.intervirt.agent.image.ImageSettings;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * Settings of one agent. Flags win over {@code INTERVIRT_*} environment variables, which win
 * over the defaults. See the README for the list.
 *
 * @param port             WebSocket port (55436)
 * @param libvirtUri       libvirt connection ({@code lxc:///system})
 * @param stateDir         topology and per-container files ({@code /var/lib/intervirt})
 * @param imageDir         image store ({@code /var/lib/intervirt/images})
 * @param bridge           the agent's bridge ({@code ivbr0})
 * @param ownerName        names what the agent owns on the host: its libvirt network and nftables
 *                         tables, and the prefix of its domains ({@code intervirt})
 * @param portPrefix       prefix of the containers' host-side interfaces ({@code ivc})
 * @param memoryMiB        memory limit of each container
 * @param pidsMax          process limit of each container
 * @param stopGrace        how long init may take to shut down before a hard stop
 * @param maxMessageBytes  largest accepted WebSocket message
 * @param debug            debug logging
 * @param favorCgroupMoves remount the host's cgroup2 with favordynmods at start, so that container starts do not
 *                         wait for RCU grace periods (true; see {@code host.CgroupMigrations})
 * @param flushBeforeReply every topology change waits for its journal line's flush to the disk before the reply
 *                         (false: the flush follows the reply, see {@code state.JournalFlusher})
 * @param poweroffCommand  argument list run after the reply to {@code shutdown}; empty = disabled (the default)
 * @param rebootCommand    argument list run after the reply to {@code reboot}; empty = disabled (the default)
 * @param upgradeCommand   argument list that upgrades the guest's own packages in {@code update}; empty = the
 *                         guest part is skipped (the default)
 * @param images           image server, prefetch list and local builder
 */
public record AgentConfig(int port, String libvirtUri, Path stateDir, Path imageDir, String bridge, String ownerName, String portPrefix,
                          long memoryMiB, long pidsMax, Duration stopGrace, int maxMessageBytes, boolean debug,
                          boolean favorCgroupMoves, boolean flushBeforeReply, List<String> poweroffCommand, List<String> rebootCommand, List<String> upgradeCommand,
                          ImageSettings images) {

    public AgentConfig {
        poweroffCommand = List.copyOf(poweroffCommand);
        rebootCommand = List.copyOf(rebootCommand);
        upgradeCommand = List.copyOf(upgradeCommand);
    }

    public static final int DEFAULT_PORT = 55436;
    public static final int DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024;

    public static AgentConfig defaults() {
        return new AgentConfig(DEFAULT_PORT, "lxc:///system", Path.of("/var/lib/intervirt"),
                Path.of("/var/lib/intervirt/images"), "ivbr0", "intervirt", "ivc", 512, 2048, Duration.ofSeconds(7),
                DEFAULT_MAX_MESSAGE_BYTES, false, true, false, List.of(), List.of(), List.of(),
                new ImageSettings(ImageSettings.DEFAULT_SERVER, ImageSettings.DEFAULT_PREFETCH, ImageSettings.defaultBuilder()));
    }

    /** A builder holding these settings: change what differs, {@code build()} the rest unchanged. */
    public Builder toBuilder() {
        return new Builder(this);
    }

    /** The prefix of the agent's libvirt domains. */
    public String domainPrefix() {
        return ownerName + "-";
    }

    public AgentConfig withPort(int value) {
        return toBuilder().port(value).build();
    }

    public AgentConfig withStateDir(Path value) {
        return toBuilder().stateDir(value).build();
    }

    /** The same settings with the given guest commands (empty lists disable them). */
    public AgentConfig withGuestCommands(List<String> poweroff, List<String> reboot, List<String> upgrade) {
        return toBuilder().poweroffCommand(poweroff).rebootCommand(reboot).upgradeCommand(upgrade).build();
    }

    /** The same settings with other image sources. */
    public AgentConfig withImages(ImageSettings value) {
        return toBuilder().images(value).build();
    }

    /** Settings by name, starting from an existing {@link AgentConfig}; one setter per component. */
    public static final class Builder {
        private int port;
        private String libvirtUri;
        private Path stateDir;
        private Path imageDir;
        private String bridge;
        private String ownerName;
        private String portPrefix;
        private long memoryMiB;
        private long pidsMax;
        private Duration stopGrace;
        private int maxMessageBytes;
        private boolean debug;
        private boolean favorCgroupMoves;
        private boolean flushBeforeReply;
        private List<String> poweroffCommand;
        private List<String> rebootCommand;
        private List<String> upgradeCommand;
        private ImageSettings images;

        private Builder(AgentConfig c) {
            port = c.port;
            libvirtUri = c.libvirtUri;
            stateDir = c.stateDir;
            imageDir = c.imageDir;
            bridge = c.bridge;
            ownerName = c.ownerName;
            portPrefix = c.portPrefix;
            memoryMiB = c.memoryMiB;
            pidsMax = c.pidsMax;
            stopGrace = c.stopGrace;
            maxMessageBytes = c.maxMessageBytes;
            debug = c.debug;
            favorCgroupMoves = c.favorCgroupMoves;
            flushBeforeReply = c.flushBeforeReply;
            poweroffCommand = c.poweroffCommand;
            rebootCommand = c.rebootCommand;
            upgradeCommand = c.upgradeCommand;
            images = c.images;
        }

        public AgentConfig build() {
            return new AgentConfig(port, libvirtUri, stateDir, imageDir, bridge, ownerName, portPrefix, memoryMiB, pidsMax,
                    stopGrace, maxMessageBytes, debug, favorCgroupMoves, flushBeforeReply, poweroffCommand, rebootCommand, upgradeCommand,
                    images);
        }

        public Builder port(int value) {
            port = value;
            return this;
        }

        public Builder libvirtUri(String value) {
            libvirtUri = value;
            return this;
        }

        public Builder stateDir(Path value) {
            stateDir = value;
            return this;
        }

        public Builder imageDir(Path value) {
            imageDir = value;
            return this;
        }

        public Builder bridge(String value) {
            bridge = value;
            return this;
        }

        public Builder ownerName(String value) {
            ownerName = value;
            return this;
        }

        public Builder portPrefix(String value) {
            portPrefix = value;
            return this;
        }

        public Builder memoryMiB(long value) {
            memoryMiB = value;
            return this;
        }

        public Builder pidsMax(long value) {
            pidsMax = value;
            return this;
        }

        public Builder stopGrace(Duration value) {
            stopGrace = value;
            return this;
        }

        public Builder maxMessageBytes(int value) {
            maxMessageBytes = value;
            return this;
        }

        public Builder debug(boolean value) {
            debug = value;
            return this;
        }

        public Builder favorCgroupMoves(boolean value) {
            favorCgroupMoves = value;
            return this;
        }

        public Builder flushBeforeReply(boolean value) {
            flushBeforeReply = value;
            return this;
        }

        public Builder poweroffCommand(List<String> value) {
            poweroffCommand = value;
            return this;
        }

        public Builder rebootCommand(List<String> value) {
            rebootCommand = value;
            return this;
        }

        public Builder upgradeCommand(List<String> value) {
            upgradeCommand = value;
            return this;
        }

        public Builder images(ImageSettings value) {
            images = value;
            return this;
        }
    }
}
