package dev.intervirt.agent.app;

import dev.intervirt.agent.image.ImageSettings;
import dev.intervirt.agent.value.ImageName;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Map;

/** Reads {@link AgentConfig} from command-line flags and {@code INTERVIRT_*} environment variables. */
public final class ConfigParser {

    /** A start that cannot work: print the message and exit non-zero. */
    public static final class UsageException extends Exception {
        public UsageException(String message) {
            super(message);
        }
    }

    /** Flag → environment variable; the order is the order of the help text. */
    static final Map<String, String> SETTINGS = new LinkedHashMap<>();

    static {
        SETTINGS.put("--port", "INTERVIRT_PORT");
        SETTINGS.put("--libvirt-uri", "INTERVIRT_LIBVIRT_URI");
        SETTINGS.put("--state-dir", "INTERVIRT_STATE_DIR");
        SETTINGS.put("--image-dir", "INTERVIRT_IMAGE_DIR");
        SETTINGS.put("--bridge", "INTERVIRT_BRIDGE");
        SETTINGS.put("--owner-name", "INTERVIRT_OWNER_NAME");
        SETTINGS.put("--port-prefix", "INTERVIRT_PORT_PREFIX");
        SETTINGS.put("--memory-mib", "INTERVIRT_MEMORY_MIB");
        SETTINGS.put("--pids-max", "INTERVIRT_PIDS_MAX");
        SETTINGS.put("--stop-grace-seconds", "INTERVIRT_STOP_GRACE_SECONDS");
        SETTINGS.put("--max-message-bytes", "INTERVIRT_MAX_MESSAGE_BYTES");
        SETTINGS.put("--poweroff-command", "INTERVIRT_POWEROFF_COMMAND");
        SETTINGS.put("--reboot-command", "INTERVIRT_REBOOT_COMMAND");
        SETTINGS.put("--upgrade-command", "INTERVIRT_UPGRADE_COMMAND");
        SETTINGS.put("--image-server", "INTERVIRT_IMAGE_SERVER");
        SETTINGS.put("--prefetch-images", "INTERVIRT_PREFETCH_IMAGES");
        SETTINGS.put("--image-builder", "INTERVIRT_IMAGE_BUILDER");
        SETTINGS.put("--favor-cgroup-moves", "INTERVIRT_FAVOR_CGROUP_MOVES");
        SETTINGS.put("--flush-before-reply", "INTERVIRT_FLUSH_BEFORE_REPLY");
        SETTINGS.put("--debug", "INTERVIRT_DEBUG");
    }

    private static final java.util.Set<String> IMAGE_FLAGS = java.util.Set.of("--image-server", "--prefetch-images",
            "--image-builder");

    public static final String HELP = """
            Usage: java -jar intervirt-agent.jar [options]
            Serves the Intervirt protocol on ws://0.0.0.0:PORT/containerManagement (all interfaces).

              --port N                  WebSocket port (INTERVIRT_PORT, default 55436)
              --libvirt-uri URI         libvirt connection (INTERVIRT_LIBVIRT_URI, default lxc:///system)
              --state-dir DIR           topology and container files (INTERVIRT_STATE_DIR, default /var/lib/intervirt)
              --image-dir DIR           image store (INTERVIRT_IMAGE_DIR, default /var/lib/intervirt/images)
              --bridge NAME             the agent's bridge (INTERVIRT_BRIDGE, default ivbr0)
              --owner-name NAME         names the agent's libvirt network, nftables tables and domain prefix
                                        (INTERVIRT_OWNER_NAME, default intervirt)
              --port-prefix NAME        prefix of containers' host-side interfaces (INTERVIRT_PORT_PREFIX, default ivc)
              --memory-mib N            memory limit per container (INTERVIRT_MEMORY_MIB, default 512)
              --pids-max N              process limit per container (INTERVIRT_PIDS_MAX, default 2048)
              --stop-grace-seconds N    graceful stop before a hard stop (INTERVIRT_STOP_GRACE_SECONDS, default 7, at most 8)
              --max-message-bytes N     largest accepted message (INTERVIRT_MAX_MESSAGE_BYTES, default 65536)
              --poweroff-command CMD    run after answering "shutdown", e.g. "systemctl poweroff"
                                        (INTERVIRT_POWEROFF_COMMAND, default none: shutdown answers code 7)
              --reboot-command CMD      run after answering "reboot", e.g. "systemctl reboot"
                                        (INTERVIRT_REBOOT_COMMAND, default none: reboot answers code 7)
              --upgrade-command CMD     upgrades the guest's packages in "update"; apt status lines on its
                                        stdout (-o APT::Status-Fd=1) become progress
                                        (INTERVIRT_UPGRADE_COMMAND, default none: only containers are updated)
                                        CMD is split on whitespace and run without a shell.
              --image-server URL        simplestreams image server (INTERVIRT_IMAGE_SERVER,
                                        default https://images.linuxcontainers.org; "" or none: no server)
              --prefetch-images LIST    images fetched or built in the background at start, comma separated
                                        (INTERVIRT_PREFETCH_IMAGES, default intervirtos/current,debian/trixie,
                                        fedora/43,archlinux/current; "": none)
              --image-builder CMD       builds debian/* and intervirtos/current locally, the name appended
                                        (INTERVIRT_IMAGE_BUILDER, default the project's scripts/build-image.sh
                                        when the agent runs from the project; "" or none: no builder)
              --favor-cgroup-moves B    remount the host's cgroup2 with favordynmods at start, so that container
                                        starts need not wait for RCU grace periods; host-wide, see the README
                                        (INTERVIRT_FAVOR_CGROUP_MOVES, default true; false: leave the host alone)
              --flush-before-reply B    every topology change waits for its journal line to reach the disk
                                        before the reply (INTERVIRT_FLUSH_BEFORE_REPLY, default false: the
                                        flush follows the reply; a crash of the agent loses nothing either way)
              --debug                   debug logging (INTERVIRT_DEBUG=true)
              --help                    this text
            Flags win over environment variables.
            """;

    private ConfigParser() {
    }

    /** Null means --help was asked for. */
    public static AgentConfig parse(String[] args, Map<String, String> env) throws UsageException {
        Map<String, String> values = new LinkedHashMap<>();
        SETTINGS.forEach((flag, var) -> {
            String v = env.get(var);
            // Blank disables the image settings (their defaults are not empty); elsewhere blank = unset.
            if (v != null && (!v.isBlank() || IMAGE_FLAGS.contains(flag))) {
                values.put(flag, v);
            }
        });
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if (arg.equals("--help") || arg.equals("-h")) {
                return null;
            }
            if (arg.equals("--debug")) {
                values.put("--debug", "true");
                continue;
            }
            String flag = arg;
            String value = null;
            int eq = arg.indexOf('=');
            if (arg.startsWith("--") && eq > 0) {
                flag = arg.substring(0, eq);
                value = arg.substring(eq + 1);
            }
            if (flag.equals("--bind")) {
                throw new UsageException("--bind is not supported: the agent listens on all interfaces, as the protocol requires.");
            }
            if (!SETTINGS.containsKey(flag)) {
                throw new UsageException("Unknown option " + arg + " (see --help).");
            }
            if (value == null) {
                if (i + 1 >= args.length) {
                    throw new UsageException("Option " + flag + " needs a value.");
                }
                value = args[++i];
            }
            values.put(flag, value);
        }
        AgentConfig d = AgentConfig.defaults();
        int port = intValue(values, "--port", d.port(), 1, 65535);
        String uri = values.getOrDefault("--libvirt-uri", d.libvirtUri());
        Path stateDir = path(values, "--state-dir", d.stateDir());
        // One rule: the image store is --image-dir, else /var/lib/intervirt/images, whatever the
        // state directory (images are shared by every agent on the host and never removed by one).
        Path imageDir = path(values, "--image-dir", d.imageDir());
        String bridge = name(values, "--bridge", d.bridge(), 15);
        String owner = name(values, "--owner-name", d.ownerName(), 24);
        String portPrefix = name(values, "--port-prefix", d.portPrefix(), 5);
        long memory = intValue(values, "--memory-mib", (int) d.memoryMiB(), 32, 1 << 20);
        long pids = intValue(values, "--pids-max", (int) d.pidsMax(), 16, 1 << 22);
        // At most 8 s: a stop must be answered within the client's 10 s (hard stop ~0.3 s).
        int grace = intValue(values, "--stop-grace-seconds", (int) d.stopGrace().toSeconds(), 0, 8);
        int maxBytes = intValue(values, "--max-message-bytes", d.maxMessageBytes(), 1024, 16 << 20);
        boolean debug = Boolean.parseBoolean(values.getOrDefault("--debug", "false"));
        boolean favorCgroupMoves = bool(values, "--favor-cgroup-moves", d.favorCgroupMoves());
        boolean flushBeforeReply = bool(values, "--flush-before-reply", d.flushBeforeReply());
        return d.toBuilder().port(port).libvirtUri(uri).stateDir(stateDir).imageDir(imageDir).bridge(bridge).ownerName(owner)
                .portPrefix(portPrefix).memoryMiB(memory).pidsMax(pids).stopGrace(Duration.ofSeconds(grace))
                .maxMessageBytes(maxBytes).debug(debug).favorCgroupMoves(favorCgroupMoves).flushBeforeReply(flushBeforeReply)
                .poweroffCommand(commandLine(values, "--poweroff-command"))
                .rebootCommand(commandLine(values, "--reboot-command")).upgradeCommand(commandLine(values, "--upgrade-command"))
                .images(images(values, d.images())).build();
    }

    private static ImageSettings images(Map<String, String> values, ImageSettings d) throws UsageException {
        String server = values.getOrDefault("--image-server", d.server()).trim();
        if (server.equals("none")) {
            server = "";
        }
        if (!server.isEmpty()) {
            try {
                java.net.URI uri = new java.net.URI(server);
                if (!("http".equals(uri.getScheme()) || "https".equals(uri.getScheme())) || uri.getHost() == null) {
                    throw new java.net.URISyntaxException(server, "not http(s)");
                }
            } catch (java.net.URISyntaxException e) {
                throw new UsageException("--image-server must be an http(s) URL, \"\" or none (got \"" + server + "\").");
            }
        }
        List<ImageName> prefetch = d.prefetch();
        if (values.containsKey("--prefetch-images")) {
            prefetch = new java.util.ArrayList<>();
            for (String part : values.get("--prefetch-images").split(",")) {
                if (part.isBlank()) {
                    continue;
                }
                ImageName n = ImageName.parse(part.trim());
                if (n == null) {
                    throw new UsageException("--prefetch-images must be DISTRIBUTION/RELEASE names separated by ',' (got \""
                            + part.trim() + "\").");
                }
                prefetch.add(n);
            }
        }
        List<String> builder = values.containsKey("--image-builder") ? commandLine(values, "--image-builder") : d.builder();
        if (builder.equals(List.of("none"))) {
            builder = List.of();
        }
        return new ImageSettings(server, prefetch, builder);
    }

    private static boolean bool(Map<String, String> values, String flag, boolean fallback) throws UsageException {
        String v = values.get(flag);
        if (v == null) {
            return fallback;
        }
        return switch (v.trim().toLowerCase(java.util.Locale.ROOT)) {
            case "true" -> true;
            case "false" -> false;
            default -> throw new UsageException(flag + " must be true or false (got \"" + v.trim() + "\").");
        };
    }

    private static int intValue(Map<String, String> values, String flag, int fallback, int min, int max)
            throws UsageException {
        String v = values.get(flag);
        if (v == null) {
            return fallback;
        }
        try {
            int n = Integer.parseInt(v.trim());
            if (n < min || n > max) {
                throw new NumberFormatException();
            }
            return n;
        } catch (NumberFormatException e) {
            throw new UsageException(flag + " must be a whole number from " + min + " to " + max + " (got \"" + v + "\").");
        }
    }

    /** A command line split on whitespace into an argument list (no shell); blank or absent = empty (disabled). */
    static List<String> commandLine(Map<String, String> values, String flag) {
        String v = values.getOrDefault(flag, "").trim();
        return v.isEmpty() ? List.of() : List.of(v.split("\\s+"));
    }

    private static Path path(Map<String, String> values, String flag, Path fallback) throws UsageException {
        String v = values.get(flag);
        if (v == null) {
            return fallback;
        }
        if (v.isBlank() || v.contains(",") || v.contains(":")) {
            throw new UsageException(flag + " must be a directory path without ',' or ':' (got \"" + v + "\").");
        }
        return Path.of(v).toAbsolutePath().normalize();
    }

    private static String name(Map<String, String> values, String flag, String fallback, int maxLength)
            throws UsageException {
        String v = values.getOrDefault(flag, fallback);
        if (!v.matches("[A-Za-z][A-Za-z0-9_]{0," + (maxLength - 1) + "}")) {
            throw new UsageException(flag + " must be letters, digits and '_' (at most " + maxLength + ", got \"" + v + "\").");
        }
        return v;
    }
}
