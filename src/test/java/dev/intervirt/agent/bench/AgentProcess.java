package dev.intervirt.agent.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The agent as its own process, started the way {@code ./intervirt run} starts it (same JVM
 * options), so that its start time and memory are its own and not the benchmark's.
 */
final class AgentProcess implements AutoCloseable {

    private final Process process;
    private final long startedNanos;
    private final int port;
    final double startToListeningMs;

    private AgentProcess(Process process, long startedNanos, int port, double startToListeningMs) {
        this.process = process;
        this.startedNanos = startedNanos;
        this.port = port;
        this.startToListeningMs = startToListeningMs;
    }

    /** Starts the agent and returns once its port accepts connections. */
    static AgentProcess start(List<String> javaOptions, String classpath, List<String> agentArgs, int port, Path log) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(javaOptions);
        cmd.addAll(List.of("-cp", classpath, "dev.intervirt.agent.app.Main"));
        cmd.addAll(agentArgs);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        long t0 = System.nanoTime();
        Process p = pb.start();
        long deadline = t0 + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            if (!p.isAlive()) {
                throw new IllegalStateException("the agent exited with " + p.exitValue() + " before listening; see " + log);
            }
            if (dev.intervirt.agent.support.WebSocketProbe.upgrades(port)) {
                break;
            }
            if (System.nanoTime() > deadline) {
                p.destroyForcibly();
                throw new IllegalStateException("the agent did not listen on " + port + " within 60 s; see " + log);
            }
            sleep(5);
        }
        return new AgentProcess(p, t0, port, (System.nanoTime() - t0) / 1e6);
    }

    long pid() {
        return process.pid();
    }

    /** Resident set size in MiB (VmRSS). */
    double rssMiB() throws IOException {
        return statusKiB("VmRSS") / 1024.0;
    }

    /** Peak resident set size in MiB (VmHWM). */
    double peakRssMiB() throws IOException {
        return statusKiB("VmHWM") / 1024.0;
    }

    private long statusKiB(String field) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid()), "status"))) {
            if (line.startsWith(field + ":")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        throw new IOException(field + " not found for " + pid());
    }

    /** Java heap {used, committed} in MiB after a full GC, from jcmd; NaNs if jcmd is unavailable. */
    double[] heapMiB() {
        String jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd").toString();
        try {
            run(List.of(jcmd, Long.toString(pid()), "GC.run"));
            String out = run(List.of(jcmd, Long.toString(pid()), "GC.heap_info"));
            // "total NNNK, used NNNK": once for G1's whole heap, once per generation for Serial/Parallel.
            Matcher m = Pattern.compile("total (\\d+)K, used (\\d+)K").matcher(out);
            long total = 0;
            long used = 0;
            boolean found = false;
            while (m.find()) {
                total += Long.parseLong(m.group(1));
                used += Long.parseLong(m.group(2));
                found = true;
            }
            if (found) {
                return new double[]{used / 1024.0, total / 1024.0};
            }
        } catch (IOException | RuntimeException e) {
            // reported as not measured
        }
        return new double[]{Double.NaN, Double.NaN};
    }

    private static String run(List<String> cmd) throws IOException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        try {
            p.waitFor(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return out;
    }

    int port() {
        return port;
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
