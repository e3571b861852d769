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
 * One long-lived {@code nft -e -i} process for set-element changes. A one-shot {@code nft}
 * that deleted elements waits ~12 ms at exit (closing its netlink socket waits for the kernel
 * to free them), and the next transaction waits behind that; a process that stays open never
 * closes its socket, and a transaction takes ~0.2 ms.
 *
 * <p>Each batch is sent as one line (one transaction) that also moves a sentinel element of
 * {@code <family> <table> <set>} from the previous sequence number to the next, so every batch
 * changes something and nft always answers {@code # new generation …}. An error ends the
 * session (the next batch starts a fresh one), so the stream never gets out of step.
 */
final class NftSession implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(NftSession.class.getName());
    private static final long TIMEOUT_MS = 5_000;
    private static final long ERROR_TAIL_MS = 50;

    private final List<String> command;
    private final String sentinelSet;
    private Process process;
    private OutputStream in;
    private BlockingQueue<String> events;
    private long sequence;

    /** @param sentinelSet e.g. {@code bridge intervirt seq}, a set of type {@code mark} */
    NftSession(List<String> prefix, String sentinelSet) {
        this.command = new java.util.ArrayList<>(prefix);
        this.command.addAll(List.of("nft", "-e", "-i"));
        this.sentinelSet = sentinelSet;
    }

    /** Runs the element commands as one transaction; the result as if from a one-shot nft. */
    synchronized ProcessRunner.Result run(List<String> commands) {
        long t0 = System.nanoTime();
        try {
            if (process == null || !process.isAlive()) {
                start();
            }
            long next = (sequence + 1) & 0xffffffffL;
            // The sentinel goes first: nft 1.0.6 prints no "new generation" line for a transaction
            // that begins with the deletion of a map element (port forwards took the 5 s timeout).
            StringBuilder line = new StringBuilder();
            line.append("add element ").append(sentinelSet).append(" { ").append(next).append(" }");
            if (sequence != 0) {
                line.append("; delete element ").append(sentinelSet).append(" { ").append(sequence).append(" }");
            }
            for (String c : commands) {
                line.append("; ").append(c);
            }
            events.clear();
            in.write((line + "\n").getBytes(StandardCharsets.UTF_8));
            in.flush();
            ProcessRunner.Result r = await();
            if (r.ok()) {
                sequence = next;
            } else {
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

    private ProcessRunner.Result await() throws IOException {
        long deadline = System.currentTimeMillis() + TIMEOUT_MS;
        StringBuilder out = new StringBuilder();
        StringBuilder err = new StringBuilder();
        try {
            while (true) {
                long left = deadline - System.currentTimeMillis();
                String ev = left <= 0 ? null : events.poll(left, TimeUnit.MILLISECONDS);
                if (ev == null) {
                    return new ProcessRunner.Result(1, out.toString(), err + "nft session: no answer within " + TIMEOUT_MS + " ms");
                }
                if (ev.startsWith("O")) {
                    out.append(ev, 1, ev.length()).append('\n');
                    if (ev.startsWith("O" + NftExecutor.COMMITTED)) {
                        return new ProcessRunner.Result(0, out.toString(), "");
                    }
                } else if (ev.startsWith("E")) {
                    err.append(ev, 1, ev.length()).append('\n');
                    // The rest of the message (the line and the caret) follows at once.
                    String more;
                    while ((more = events.poll(ERROR_TAIL_MS, TimeUnit.MILLISECONDS)) != null) {
                        (more.startsWith("E") ? err : out).append(more, 1, more.length()).append('\n');
                    }
                    return new ProcessRunner.Result(1, out.toString(), err.toString());
                } else {
                    return new ProcessRunner.Result(1, out.toString(), err + "nft session ended");
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new ProcessRunner.Result(1, out.toString(), "interrupted");
        }
    }

    private void start() throws IOException {
        // A fresh session does not know the sentinel an earlier one left: clear it (one-shot).
        List<String> flush = new java.util.ArrayList<>(command.subList(0, command.size() - 2));
        flush.add("flush");
        flush.add("set");
        flush.addAll(List.of(sentinelSet.split(" ")));
        ProcessRunner.exec(flush, null, 10);
        process = new ProcessBuilder(command).start();
        in = process.getOutputStream();
        events = new LinkedBlockingQueue<>();
        sequence = 0;
        pump(process.getInputStream(), "O", events);
        pump(process.getErrorStream(), "E", events);
    }

    private static void pump(InputStream s, String tag, BlockingQueue<String> events) {
        Thread t = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(s, StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    events.add(tag + line);
                }
            } catch (IOException e) {
                // the session is gone
            }
            events.add("X");
        }, "nft-session-" + tag);
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
