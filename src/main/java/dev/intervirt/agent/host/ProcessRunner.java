package dev.intervirt.agent.host;

import dev.intervirt.agent.concurrent.DaemonThreads;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * Runs host commands from argument lists (never through a shell), optionally feeding stdin.
 * Every host adapter goes through here so that commands are logged and bounded in time.
 */
public final class ProcessRunner {

    private static final long DEFAULT_TIMEOUT_SECONDS = 60;
    private static final java.util.logging.Logger LOG = java.util.logging.Logger.getLogger(ProcessRunner.class.getName());

    /** Own threads for draining pipes: the common pool has a single thread on 2 cores. */
    private static final ExecutorService DRAINERS = Executors.newCachedThreadPool(DaemonThreads.named("process-drain"));

    /** Output of a finished command. */
    public record Result(int exitCode, String stdout, String stderr) {
        public boolean ok() {
            return exitCode == 0;
        }
    }

    private ProcessRunner() {
    }

    /** Runs the command and throws {@link CommandFailedException} unless it exits 0. */
    public static String run(List<String> command) {
        return run(command, null);
    }

    /** Runs the command with the given stdin and throws unless it exits 0. Returns stdout. */
    public static String run(List<String> command, String stdin) {
        Result r = exec(command, stdin, DEFAULT_TIMEOUT_SECONDS);
        if (!r.ok()) {
            throw new CommandFailedException(command, r.exitCode(), r.stderr().isBlank() ? r.stdout() : r.stderr());
        }
        return r.stdout();
    }

    /** Runs the command and returns its result whatever the exit code. */
    public static Result exec(List<String> command, String stdin, long timeoutSeconds) {
        long t0 = System.nanoTime();
        Result r = execUntimed(command, stdin, timeoutSeconds);
        logTime(command, t0, r.exitCode());
        return r;
    }

    /** With --debug: every host command with its exit code and duration. */
    private static void logTime(List<String> command, long t0, int exit) {
        if (LOG.isLoggable(java.util.logging.Level.FINE)) {
            LOG.fine(String.format("%s -> %d (%.2f ms)", String.join(" ", command), exit, (System.nanoTime() - t0) / 1e6));
        }
    }

    private static Result execUntimed(List<String> command, String stdin, long timeoutSeconds) {
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.environment().put("LC_ALL", "C");
        Process p = start(pb, command);
        CompletableFuture<String> out = drain(p.getInputStream());
        CompletableFuture<String> err = drain(p.getErrorStream());
        feed(p, stdin);
        return awaitExit(p, command, timeoutSeconds, out, err);
    }

    /**
     * Runs the command and returns as soon as a line of its stdout starts with {@code marker},
     * as success; the process is then left to finish in the background (its exit is still
     * reaped, and a non-zero exit logged). Without the marker it behaves like {@link #exec}.
     * For commands whose work is done long before they exit.
     */
    public static Result execUntilLine(List<String> command, String stdin, String marker, long timeoutSeconds) {
        long t0 = System.nanoTime();
        Result r = execUntilLineUntimed(command, stdin, marker, timeoutSeconds);
        logTime(command, t0, r.exitCode());
        return r;
    }

    private static Result execUntilLineUntimed(List<String> command, String stdin, String marker, long timeoutSeconds) {
        Process p = start(new ProcessBuilder(command), command);
        CompletableFuture<String> err = drain(p.getErrorStream());
        feed(p, stdin);
        CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> {
            StringBuilder sb = new StringBuilder();
            try (var reader = new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = reader.readLine()) != null) {
                    sb.append(line).append('\n');
                    if (line.startsWith(marker)) {
                        // Done: keep draining in the background so the process can exit.
                        DRAINERS.execute(() -> drainRest(reader, p, command));
                        return sb.toString();
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return null;
        }, DRAINERS);
        try {
            String stdout = out.get(timeoutSeconds, TimeUnit.SECONDS);
            if (stdout != null) {
                return new Result(0, stdout, "");
            }
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new CommandFailedException(command, -1, "timed out after " + timeoutSeconds + " s");
            }
            return new Result(p.exitValue(), "", err.join());
        } catch (java.util.concurrent.TimeoutException e) {
            p.destroyForcibly();
            throw new CommandFailedException(command, -1, "timed out after " + timeoutSeconds + " s");
        } catch (java.util.concurrent.ExecutionException e) {
            p.destroyForcibly();
            throw new CommandFailedException(command, -1, String.valueOf(e.getCause()));
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new CommandFailedException(command, -1, "interrupted");
        }
    }

    /**
     * Runs a long command (a package upgrade) with exactly the given environment, handing each
     * line of its stdout to {@code onLine} as it comes. Returns the exit code with the last
     * {@code 40} lines of stdout and of stderr (enough to say why it failed). Killed after
     * {@code timeoutSeconds}.
     */
    public static Result execLines(List<String> command, java.util.Map<String, String> environment,
                                   java.util.function.Consumer<String> onLine, long timeoutSeconds) {
        return execLines(command, environment, onLine, timeoutSeconds, false);
    }

    /** Like the above; with {@code mergeStderr}, stderr lines are handed to {@code onLine} too (scripts that log there). */
    public static Result execLines(List<String> command, java.util.Map<String, String> environment,
                                   java.util.function.Consumer<String> onLine, long timeoutSeconds, boolean mergeStderr) {
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.environment().clear();
        pb.environment().putAll(environment);
        pb.redirectErrorStream(mergeStderr);
        pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        Process p = start(pb, command);
        CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> tail(p.getErrorStream(), line -> { }), DRAINERS);
        CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> tail(p.getInputStream(), onLine), DRAINERS);
        return awaitExit(p, command, timeoutSeconds, out, err);
    }

    /** Writes the command's input (if any) and closes its stdin. */
    private static void feed(Process p, String stdin) {
        try (OutputStream in = p.getOutputStream()) {
            if (stdin != null) {
                in.write(stdin.getBytes(StandardCharsets.UTF_8));
            }
        } catch (IOException e) {
            // The command may exit before reading its input; its exit code tells the story.
        }
    }

    /** Waits for the exit within the timeout (killing the command and its children after it). */
    private static Result awaitExit(Process p, List<String> command, long timeoutSeconds, CompletableFuture<String> out,
                                    CompletableFuture<String> err) {
        try {
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                throw new CommandFailedException(command, -1, "timed out after " + timeoutSeconds + " s");
            }
            return new Result(p.exitValue(), out.join(), err.join());
        } catch (InterruptedException e) {
            // The whole tree, and gently: a builder script's debootstrap must not outlive it,
            // and the script's trap must get to remove its temporary tree.
            endTrees(List.of(p), TREE_GRACE);
            Thread.currentThread().interrupt();
            throw new CommandFailedException(command, -1, "interrupted");
        }
    }

    /** Every command still running, so that the agent's stop can end them (and what they started). */
    private static final java.util.Set<Process> LIVE = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /** Starts a marked helper and tracks it until it exits. */
    private static Process start(ProcessBuilder pb, List<String> command) {
        HelperProcesses.mark(pb);
        try {
            Process p = pb.start();
            LIVE.add(p);
            p.onExit().thenRun(() -> LIVE.remove(p));
            return p;
        } catch (IOException e) {
            throw new CommandFailedException(command, -1, e.getMessage());
        }
    }

    /**
     * Ends every command the agent still runs, with everything they started (an image builder's
     * debootstrap, a download's tar): SIGTERM first, so scripts run their clean-up traps (they
     * unmount and remove their temporary directories), SIGKILL for whatever is left after
     * {@code grace}. Returns how many processes had to be ended. Called when the agent stops.
     */
    public static int endAll(java.time.Duration grace) {
        return endTrees(List.copyOf(LIVE), grace);
    }

    private static final java.time.Duration TREE_GRACE = java.time.Duration.ofSeconds(5);

    /** SIGTERM to each process and its descendants, SIGKILL to what is left after {@code grace}. */
    private static int endTrees(List<Process> roots, java.time.Duration grace) {
        List<ProcessHandle> tree = new java.util.ArrayList<>();
        for (Process p : roots) {
            tree.add(p.toHandle());
            p.descendants().forEach(tree::add);
        }
        // One SIGTERM per process: a second one would end a script in the middle of its clean-up trap.
        tree.stream().filter(h -> TERMINATED.add(h.pid())).forEach(ProcessHandle::destroy);
        long deadline = System.nanoTime() + grace.toNanos();
        while (System.nanoTime() < deadline && tree.stream().anyMatch(ProcessHandle::isAlive)) {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        for (ProcessHandle h : List.copyOf(tree)) {
            h.descendants().forEach(tree::add);
        }
        tree.stream().filter(ProcessHandle::isAlive).forEach(ProcessHandle::destroyForcibly);
        tree.forEach(h -> TERMINATED.remove(h.pid()));
        return tree.size();
    }

    /** Processes sent SIGTERM by an {@link #endTrees} still waiting for them. */
    private static final java.util.Set<Long> TERMINATED = java.util.concurrent.ConcurrentHashMap.newKeySet();

    private static String tail(InputStream s, java.util.function.Consumer<String> onLine) {
        java.util.ArrayDeque<String> last = new java.util.ArrayDeque<>();
        try (var reader = new java.io.BufferedReader(new java.io.InputStreamReader(s, StandardCharsets.UTF_8))) {
            String line;
            while ((line = reader.readLine()) != null) {
                try {
                    onLine.accept(line);
                } catch (RuntimeException e) {
                    // a consumer's failure must not stop the draining (the process would block)
                }
                last.addLast(line);
                if (last.size() > 40) {
                    last.removeFirst();
                }
            }
        } catch (IOException e) {
            // the process is gone; what was read so far is the tail
        }
        return String.join("\n", last);
    }

    private static void drainRest(java.io.BufferedReader reader, Process p, List<String> command) {
        try (reader) {
            while (reader.readLine() != null) {
                // discard
            }
            if (p.waitFor() != 0) {
                java.util.logging.Logger.getLogger(ProcessRunner.class.getName())
                        .warning(String.join(" ", command) + " exited " + p.exitValue() + " after reporting success");
            }
        } catch (IOException | InterruptedException e) {
            // the process is gone either way
        }
    }

    private static CompletableFuture<String> drain(InputStream s) {
        return CompletableFuture.supplyAsync(() -> {
            try (s) {
                ByteArrayOutputStream b = new ByteArrayOutputStream();
                s.transferTo(b);
                return b.toString(StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }, DRAINERS);
    }
}
