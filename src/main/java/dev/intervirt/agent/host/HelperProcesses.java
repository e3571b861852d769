package dev.intervirt.agent.host;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Logger;

/**
 * Marks every helper process the agent starts (nft, ip, nsenter, mount …) with
 * {@code INTERVIRT_AGENT_HELPER=<owner>:<agent pid>} in its environment, so that an agent
 * starting after a crash can find the helpers its killed predecessor left running and end them
 * before it reconciles: an orphaned {@code nft} still applies the transaction it was given, and
 * could do so after the new agent has put the host in order.
 */
public final class HelperProcesses {

    static final String VARIABLE = "INTERVIRT_AGENT_HELPER";
    /**
     * Only these programs are ended: the short-lived host tools the agent runs itself. A
     * daemon started through a marked process (a test or an upgrade restarting libvirtd)
     * inherits the marker, and must never be taken for a helper.
     */
    static final java.util.Set<String> HELPERS = java.util.Set.of("nft", "ip", "nsenter", "mount", "umount", "sysctl");
    private static final Logger LOG = Logger.getLogger(HelperProcesses.class.getName());
    private static volatile String owner = "intervirt";

    private HelperProcesses() {
    }

    public static void configure(String ownerName) {
        owner = ownerName;
    }

    static void mark(ProcessBuilder pb) {
        pb.environment().put(VARIABLE, owner + ":" + ProcessHandle.current().pid());
    }

    /** Kills (SIGKILL) the helpers of this owner whose agent is gone, and waits for them. Returns how many. */
    public static int killOrphans() {
        String prefix = VARIABLE + "=" + owner + ":";
        List<ProcessHandle> orphans = new ArrayList<>();
        try (DirectoryStream<Path> procs = Files.newDirectoryStream(Path.of("/proc"), p -> p.getFileName().toString().matches("\\d+"))) {
            for (Path p : procs) {
                String agent = agentOf(p, prefix);
                if (agent != null && ProcessHandle.of(Long.parseLong(agent)).isEmpty()) {
                    ProcessHandle.of(Long.parseLong(p.getFileName().toString()))
                            .filter(HelperProcesses::isHostTool).ifPresent(orphans::add);
                }
            }
        } catch (IOException e) {
            LOG.warning("cannot look for helper processes of an earlier agent: " + e.getMessage());
        }
        for (ProcessHandle h : orphans) {
            LOG.info("ending helper process " + h.pid() + " (" + h.info().command().orElse("?") + ") of an earlier agent");
            h.destroyForcibly();
        }
        for (ProcessHandle h : orphans) {
            try {
                h.onExit().get(2, java.util.concurrent.TimeUnit.SECONDS);
            } catch (Exception e) {
                LOG.warning("helper process " + h.pid() + " did not end: " + e);
            }
        }
        return orphans.size();
    }

    static boolean isHostTool(ProcessHandle h) {
        return h.info().command().map(c -> HELPERS.contains(Path.of(c).getFileName().toString())).orElse(false);
    }

    /** The agent pid in the process's marker of this owner, or null. */
    private static String agentOf(Path proc, String prefix) {
        try {
            for (String entry : new String(Files.readAllBytes(proc.resolve("environ")), StandardCharsets.UTF_8).split("\0")) {
                if (entry.startsWith(prefix) && entry.substring(prefix.length()).matches("\\d+")) {
                    return entry.substring(prefix.length());
                }
            }
        } catch (IOException | RuntimeException e) {
            // gone, or a kernel thread
        }
        return null;
    }
}
