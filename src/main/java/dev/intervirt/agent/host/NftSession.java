package dev.intervirt.agent.host;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/**
 * One long-lived {@code nft -i} process for set-element changes. A one-shot {@code nft}
 * that deleted elements waits ~12 ms at exit (closing its netlink socket waits for the kernel
 * to free them), and the next transaction waits behind that; a process that stays open never
 * closes its socket, and a transaction takes ~0.2 ms.
 *
 * <p>Each batch is sent as one line (one transaction), followed by {@code list set} of a
 * small marker set ({@code <family> <table> <set>}, never large): its listing ends the answer,
 * and an {@code Error:} line before it (stderr is merged into stdout, so the order holds)
 * means the batch failed and changed nothing. No echo mode ({@code -e}): with it nft 1.0.6
 * loads every element of the set for each transaction, ~2 µs per element, 10 ms per Connect
 * in a full mesh of 100 (4,950 links), and printed no answer at all for a batch starting
 * with a map-element deletion. An error ends the session (the next batch starts a fresh one),
 * so the stream never gets out of step.
 */
final class NftSession implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(NftSession.class.getName());
    private static final long TIMEOUT_MS = 5_000;

    private final List<String> command;
    private final String markerSet;
    private Process process;
    private OutputStream in;
    private BlockingQueue<String> lines;

    /** @param markerSet e.g. {@code bridge intervirt seq}: a set that exists and stays small */
    NftSession(List<String> prefix, String markerSet) {
        this.command = new java.util.ArrayList<>(prefix);
        this.command.addAll(List.of("nft", "-i"));
        this.markerSet = markerSet;
    }

    /** Runs the element commands as one transaction; the result as if from a one-shot nft. */
    synchronized ProcessRunner.Result run(List<String> commands) {
        long t0 = System.nanoTime();
        try {
            if (process == null || !process.isAlive()) {
                start();
            }
            String batch = String.join("; ", commands);
            lines.clear();
            in.write((batch + "\nlist set " + markerSet + "\n").getBytes(StandardCharsets.UTF_8));
            in.flush();
            ProcessRunner.Result r = await();
            if (!r.ok()) {
                close();
            }
            return r;
        } catch (IOException e) {
            close();
            return new ProcessRunner.Result(1, "", "nft session: " + e.getMessage());
        } finally {
            if (LOG.isLoggable(java.util.logging.Level.FINE)) {
                LOG.fine(String.format("nft session batch of %d -> (%.2f ms)", commands.size(), (System.nanoTime() - t0) / 1e6));
            }
        }
    }

    /** Reads up to the end of the marker listing ("}" at the start of a line after "table …"). */
    private ProcessRunner.Result await() {
        long deadline = System.currentTimeMillis() + TIMEOUT_MS;
        StringBuilder err = new StringBuilder();
        boolean inListing = false;
        try {
            while (true) {
                long left = deadline - System.currentTimeMillis();
                String line = left <= 0 ? null : lines.poll(left, TimeUnit.MILLISECONDS);
                if (line == null) {
                    return new ProcessRunner.Result(1, "", err + "nft session: no answer within " + TIMEOUT_MS + " ms");
                }
                if (line.equals(ENDED)) {
                    return new ProcessRunner.Result(1, "", err + "nft session ended");
                }
                if (!inListing && line.startsWith("table ")) {
                    inListing = true;
                } else if (inListing && line.equals("}")) {
                    return err.length() == 0 ? new ProcessRunner.Result(0, "", "") : new ProcessRunner.Result(1, "", err.toString());
                } else if (!inListing) {
                    err.append(line).append('\n');
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new ProcessRunner.Result(1, "", "interrupted");
        }
    }

    private static final String ENDED = "\u0000ended";

    private void start() throws IOException {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        HelperProcesses.mark(pb);
        process = pb.start();
        in = process.getOutputStream();
        lines = new LinkedBlockingQueue<>();
        pump(process.getInputStream(), lines);
    }

    private static void pump(InputStream s, BlockingQueue<String> lines) {
        Thread t = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(s, StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    lines.add(line);
                }
            } catch (IOException e) {
                // the session is gone
            }
            lines.add(ENDED);
        }, "nft-session");
        t.setDaemon(true);
        t.start();
    }

    @Override
    public synchronized void close() {
        if (process != null) {
            process.destroy();
            process = null;
        }
    }
}
