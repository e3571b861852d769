package dev.intervirt.agent.guest;

import dev.intervirt.agent.app.AgentConfig;
import dev.intervirt.agent.container.ContainerService;
import dev.intervirt.agent.container.InitPids;
import dev.intervirt.agent.dispatch.Progress;
import dev.intervirt.agent.host.ProcessRunner;
import dev.intervirt.agent.network.NetworkService;
import dev.intervirt.agent.host.HostException;
import dev.intervirt.agent.protocol.AgentException;
import dev.intervirt.agent.protocol.ErrorCode;
import dev.intervirt.agent.protocol.Text;
import dev.intervirt.agent.state.ContainerRecord;
import dev.intervirt.agent.state.Topology;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionService;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorCompletionService;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Guest-wide commands: version, wipe, update, shutdown, reboot. The power and guest-upgrade
 * commands are configuration ({@link AgentConfig}); where they are not set, shutdown and
 * reboot answer code 7 saying how to enable them, and update skips the guest's own packages.
 */
@ApplicationScoped
public class GuestService {

    private static final Logger LOG = Logger.getLogger(GuestService.class.getName());
    private static final String VERSION = readVersion();
    /** Time for the reply to reach the client before the power command takes the network down. */
    static final long POWER_DELAY_MILLIS = 300;
    private static final long GUEST_UPGRADE_TIMEOUT_SECONDS = 3600;
    private static final long CONTAINER_COMMAND_TIMEOUT_SECONDS = 1200;
    /** Share of a container's progress slot for its package commands; the rest is the restart. */
    private static final double UPDATE_SHARE = 0.85;
    private static final long OUTPUT_EVERY_NANOS = 500_000_000L;

    /**
     * Parallel container removals in a wipe: mostly waiting on libvirt and the kernel, 4 per
     * CPU, at most 16. On the appliance's one vCPU, 16 at once put libvirtd over its limit of 5
     * requests per client ("Client hit max requests limit") and the agent ended with SIGABRT,
     * in 3 of 3 wipes of 20 computers; 4 threads there.
     */
    private static final int WIPE_THREADS = Math.max(2, Math.min(16, 4 * Runtime.getRuntime().availableProcessors()));

    private Topology topology;
    private ContainerService containers;
    private NetworkService network;
    private InitPids pids;
    private AgentConfig config;

    protected GuestService() {
        // for CDI proxies
    }

    @Inject
    public GuestService(Topology topology, ContainerService containers, NetworkService network, InitPids pids, AgentConfig config) {
        this.topology = topology;
        this.containers = containers;
        this.network = network;
        this.pids = pids;
        this.config = config;
    }

    /** The Maven project version of this build. */
    public String version() {
        return VERSION;
    }

    /**
     * Removes every container with its links, forwards and addresses. The containers are
     * destroyed in parallel (hard stop, undefine, files; their data goes anyway), then the
     * firewall elements are flushed and the topology cleared in one step each. Progress as each
     * container goes. A container that cannot be removed fails the wipe with its reason (code 4)
     * after the others are removed; it keeps its entry and links, and a second wipe finishes it.
     */
    public void wipe(Progress progress) {
        List<ContainerRecord> all = topology.containers();
        int steps = all.size() + 1;
        progress.report(0, "Removing " + all.size() + " container(s)");
        List<ContainerRecord> removed = new ArrayList<>();
        List<String> failures = new ArrayList<>();
        if (!all.isEmpty()) {
            ExecutorService workers = Executors.newFixedThreadPool(Math.min(all.size(), WIPE_THREADS), r -> {
                Thread t = new Thread(r, "guest-wipe");
                t.setDaemon(true);
                return t;
            });
            try {
                CompletionService<ContainerRecord> done = new ExecutorCompletionService<>(workers);
                for (ContainerRecord c : all) {
                    done.submit(() -> {
                        containers.destroyForWipe(c.id());
                        return c;
                    });
                }
                for (int i = 0; i < all.size(); i++) {
                    try {
                        ContainerRecord c = done.take().get();
                        removed.add(c);
                        progress.report((double) removed.size() / steps, "Removed container " + c.id());
                    } catch (ExecutionException e) {
                        Throwable cause = e.getCause();
                        LOG.log(Level.WARNING, "wipe: a container could not be removed", cause);
                        failures.add(cause.getMessage() == null ? cause.toString() : cause.getMessage());
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AgentException(ErrorCode.GUEST, "The wipe was interrupted; wipe again to finish it.");
            } finally {
                workers.shutdown();
            }
        }
        if (failures.isEmpty()) {
            progress.report((double) all.size() / steps, "Removing firewall elements and routes");
            network.releaseAll(removed);
            topology.removeContainers(removed.stream().map(ContainerRecord::id).toList());
        } else {
            // Only what is gone leaves the topology; the rest keeps its elements for the next wipe.
            for (ContainerRecord c : removed) {
                network.detach(c);
                topology.removeContainer(c.id());
            }
            throw new AgentException(ErrorCode.GUEST, "Wipe incomplete: " + failures.size() + " of " + all.size()
                    + " container(s) could not be removed (" + String.join("; ", failures) + "); wipe again to finish.");
        }
        progress.report(1.0, "Wipe finished: " + all.size() + " container(s) removed");
    }

    /** Which power command: the protocol's command name, its setting and the appliance's value. */
    public enum Power {
        SHUTDOWN("shutdown", "--poweroff-command", "INTERVIRT_POWEROFF_COMMAND", "systemctl poweroff"),
        REBOOT("reboot", "--reboot-command", "INTERVIRT_REBOOT_COMMAND", "systemctl reboot");

        final String command;
        final String flag;
        final String variable;
        final String example;

        Power(String command, String flag, String variable, String example) {
            this.command = command;
            this.flag = flag;
            this.variable = variable;
            this.example = example;
        }
    }

    /**
     * shutdown / reboot: refuses (code 7) where the power command is not configured; otherwise
     * stops every running container cleanly and in parallel, keeping its running intent (so the
     * reconciler starts it again when the guest is back), and returns the power command as an
     * action the caller runs once the reply has been sent. A container that cannot be stopped
     * fails the request (code 4 with the reasons) and the guest stays up.
     */
    public Runnable powerOff(Power which) {
        List<String> command = which == Power.SHUTDOWN ? config.poweroffCommand() : config.rebootCommand();
        if (command.isEmpty()) {
            throw new AgentException(ErrorCode.UNSUPPORTED, "The command \"" + which.command
                    + "\" is disabled on this guest. Enable it with " + which.flag + " CMD or " + which.variable
                    + " (the appliance uses \"" + which.example + "\").");
        }
        List<ContainerRecord> running = topology.containers().stream().filter(c -> pids.of(c).isPresent()).toList();
        List<String> failures = new ArrayList<>();
        if (!running.isEmpty()) {
            ExecutorService stoppers = Executors.newFixedThreadPool(Math.min(running.size(), 64), r -> {
                Thread t = new Thread(r, "guest-" + which.command + "-stop");
                t.setDaemon(true);
                return t;
            });
            try {
                List<CompletableFuture<String>> stops = running.stream()
                        .map(c -> CompletableFuture.supplyAsync(() -> stopKeepingIntent(c.id()), stoppers)).toList();
                for (CompletableFuture<String> f : stops) {
                    String failure = f.join();
                    if (failure != null) {
                        failures.add(failure);
                    }
                }
            } finally {
                stoppers.shutdown();
            }
        }
        if (!failures.isEmpty()) {
            throw new AgentException(ErrorCode.GUEST, "Not running \"" + which.command + "\": " + String.join("; ", failures));
        }
        LOG.info(which.command + ": " + running.size() + " container(s) stopped; running " + String.join(" ", command)
                + " after the reply");
        return () -> runPowerCommand(which, command);
    }

    private String stopKeepingIntent(String id) {
        try {
            containers.stopKeepingIntent(id);
            return null;
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "cannot stop " + id, e);
            return "container " + id + " could not be stopped: " + e.getMessage();
        }
    }

    private static void runPowerCommand(Power which, List<String> command) {
        try {
            Thread.sleep(POWER_DELAY_MILLIS);
            ProcessRunner.Result r = ProcessRunner.exec(command, null, 120);
            if (!r.ok()) {
                LOG.warning(which.command + ": " + String.join(" ", command) + " exited " + r.exitCode() + ": "
                        + (r.stderr().isBlank() ? r.stdout() : r.stderr()).strip());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, which.command + ": " + String.join(" ", command) + " failed", e);
        }
    }

    /**
     * update: the guest's own packages (the configured upgrade command; skipped, and said so,
     * where none is configured), then every container with its own package manager. A running
     * container is updated in place and restarted after a successful update; a stopped one is
     * started for its update and stopped again. A failing container is reported and the others
     * continue; if anything failed the request fails with code 5 listing every failure.
     */
    public void update(Progress progress) {
        List<ContainerRecord> all = topology.containers();
        double slots = 1 + all.size();
        List<String> failures = new ArrayList<>();
        List<String> skipped = new ArrayList<>();
        int updated = 0;

        List<String> upgrade = config.upgradeCommand();
        if (upgrade.isEmpty()) {
            skipped.add("the guest");
            progress.report(0, "Guest packages: skipped (no upgrade command configured; enable with --upgrade-command CMD"
                    + " or INTERVIRT_UPGRADE_COMMAND)");
        } else {
            progress.report(0, "Upgrading the guest's packages");
            Map<String, String> env = new HashMap<>(System.getenv());
            env.put("LC_ALL", "C");
            env.put("DEBIAN_FRONTEND", "noninteractive");
            String failure = runReporting(upgrade, env, GUEST_UPGRADE_TIMEOUT_SECONDS,
                    new Slot(progress, 0, 1 / slots, "Upgrading the guest's packages"));
            if (failure != null) {
                failures.add("guest: " + failure);
            } else {
                updated++;
            }
        }

        for (int i = 0; i < all.size(); i++) {
            ContainerRecord c = all.get(i);
            double from = (1 + i) / slots;
            String outcome = updateContainer(c, progress, from, 1 / slots);
            if (outcome == null) {
                updated++;
            } else if (outcome.startsWith(SKIPPED)) {
                skipped.add(c.id());
            } else {
                failures.add(c.id() + ": " + outcome);
            }
        }
        String summary = "Update finished: " + updated + " updated" + (skipped.isEmpty() ? "" : ", skipped " + String.join(", ", skipped))
                + (failures.isEmpty() ? "" : ", " + failures.size() + " failed");
        progress.report(1.0, summary);
        if (!failures.isEmpty()) {
            throw new AgentException(ErrorCode.COMMAND, "Update failed for " + failures.size() + " of " + (all.size()
                    + (upgrade.isEmpty() ? 0 : 1)) + ": " + String.join("; ", failures));
        }
    }

    private static final String SKIPPED = "skipped:";

    /** Null on success, "skipped: …" when there is nothing to update with, else the failure. */
    private String updateContainer(ContainerRecord c, Progress progress, double from, double width) {
        String id = c.id();
        boolean wasRunning = pids.of(c).isPresent();
        boolean startedHere = false;
        try {
            if (!wasRunning) {
                progress.report(from, "Starting " + id + " for its update");
                containers.start(id);
                startedHere = true;
            }
            OptionalInt pid = pids.of(c);
            if (pid.isEmpty()) {
                return "it is not running";
            }
            Optional<PackageManager> pm = PackageManager.detect(Path.of("/proc", Integer.toString(pid.getAsInt()), "root"));
            if (pm.isEmpty()) {
                progress.report(from, "Skipping " + id + ": no apt-get, dnf, pacman or apk in it");
                return SKIPPED + " no package manager";
            }
            List<List<String>> commands = pm.get().updateCommands();
            double share = width * UPDATE_SHARE / commands.size();
            for (int j = 0; j < commands.size(); j++) {
                List<String> command = commands.get(j);
                String label = "Updating " + id + " (" + pm.get().label() + ", " + command.get(command.size() - 1) + ")";
                progress.report(from + j * share, label);
                String failure = runReporting(inside(pid.getAsInt(), command), containerEnvironment(), CONTAINER_COMMAND_TIMEOUT_SECONDS,
                        new Slot(progress, from + j * share, share, label));
                if (failure != null) {
                    return failure;
                }
            }
            if (wasRunning) {
                progress.report(from + width * UPDATE_SHARE, "Restarting " + id);
                containers.stopKeepingIntent(id);
                containers.start(id);
            }
            return null;
        } catch (AgentException | HostException e) {
            return e.getMessage();
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "update of " + id + " failed", e);
            return e.getMessage() == null ? e.toString() : e.getMessage();
        } finally {
            if (startedHere) {
                try {
                    progress.report(from + width * UPDATE_SHARE, "Stopping " + id + " again");
                    containers.stop(id);
                } catch (RuntimeException e) {
                    LOG.log(Level.WARNING, "cannot stop " + id + " after its update", e);
                }
            }
        }
    }

    /** The command run inside the container's namespaces, with its own root. */
    static List<String> inside(int initPid, List<String> command) {
        List<String> argv = new ArrayList<>(List.of("nsenter", "-t", Integer.toString(initPid), "-m", "-u", "-i", "-n", "-p",
                "-r", "-w", "--"));
        argv.addAll(command);
        return argv;
    }

    static Map<String, String> containerEnvironment() {
        return Map.of("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME", "/root", "LC_ALL", "C",
                "DEBIAN_FRONTEND", "noninteractive", "TERM", "dumb");
    }

    /** Where one command reports: a slice [from, from + width) of the whole stream. */
    record Slot(Progress progress, double from, double width, String label) {
    }

    /**
     * Runs the command, turning each apt status line into progress within the slot and other
     * output into the message text (at most every 0.5 s). Null on exit 0, else why it failed.
     */
    static String runReporting(List<String> command, Map<String, String> env, long timeoutSeconds, Slot slot) {
        long[] lastSent = {System.nanoTime()};
        Consumer<String> onLine = line -> {
            Optional<AptStatus> status = AptStatus.parse(line);
            long now = System.nanoTime();
            if (status.isPresent()) {
                AptStatus s = status.get();
                // apt writes a few of these per package: every one is news for the learner
                lastSent[0] = now;
                slot.progress().report(slot.from() + slot.width() * s.fraction(), slot.label() + ": "
                        + Text.printable(s.describe()) + " (" + Math.round(s.percent()) + "%)");
            } else if (!line.isBlank() && now - lastSent[0] >= OUTPUT_EVERY_NANOS) {
                lastSent[0] = now;
                slot.progress().report(slot.from(), slot.label() + ": " + Text.printable(line.strip()));
            }
        };
        ProcessRunner.Result r;
        try {
            r = ProcessRunner.execLines(command, env, onLine, timeoutSeconds);
        } catch (RuntimeException e) {
            return e.getMessage();
        }
        if (r.ok()) {
            return null;
        }
        String why = lastLines(r.stderr().isBlank() ? r.stdout() : r.stderr(), 3);
        return String.join(" ", visible(command)) + " exited " + r.exitCode() + (why.isEmpty() ? "" : ": " + why);
    }

    /** The command as the learner would type it (without the nsenter prefix). */
    private static List<String> visible(List<String> command) {
        int dashes = command.indexOf("--");
        return command.get(0).equals("nsenter") && dashes >= 0 ? command.subList(dashes + 1, command.size()) : command;
    }

    private static String lastLines(String text, int n) {
        List<String> lines = text.lines().map(String::strip).filter(l -> !l.isEmpty() && AptStatus.parse(l).isEmpty()).toList();
        return String.join(" / ", lines.subList(Math.max(0, lines.size() - n), lines.size()));
    }

    private static String readVersion() {
        Properties p = new Properties();
        try (InputStream in = GuestService.class.getResourceAsStream("/dev/intervirt/agent/agent-version.properties")) {
            if (in != null) {
                p.load(in);
            }
        } catch (IOException e) {
            // fall through to "unknown"
        }
        return p.getProperty("version", "unknown");
    }
}
