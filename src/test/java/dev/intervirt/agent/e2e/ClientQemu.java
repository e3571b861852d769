package dev.intervirt.agent.e2e;

import jakarta.json.Json;
import jakarta.json.JsonObject;
import jakarta.json.JsonReader;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The appliance VM started exactly as the desktop client starts it (its QemuClient: KVM off,
 * 1 vCPU, 2 GiB, IDE disk, e1000 on a user network forwarding 55436, QMP on TCP), plus only a
 * serial log: with -nographic the serial console is QEMU's stdout, which goes to a file. The
 * QMP session is the client's too: capabilities, {@code query-status},
 * {@code human-monitor-command hostfwd_add}.
 */
final class ClientQemu implements AutoCloseable {

    private final Process process;
    private final long startedNanos;
    private final int qmpPort;
    private Socket qmp;
    private BufferedReader qmpIn;
    private OutputStream qmpOut;

    private ClientQemu(Process process, long startedNanos, int qmpPort) {
        this.process = process;
        this.startedNanos = startedNanos;
        this.qmpPort = qmpPort;
    }

    /** The client's command line (QemuClient.startAlpineVMCommands with its defaults). */
    static List<String> commandLine(String qemu, Path disk, int agentPort, int qmpPort) {
        return List.of(qemu,
                "-smp", "1",
                "-drive", "file=" + disk,
                "-m", "2048",
                "-netdev", "user,id=net0,hostfwd=tcp:127.0.0.1:" + agentPort + "-:55436,dns=9.9.9.9",
                "-qmp", "tcp:127.0.0.1:" + qmpPort + ",server,nowait",
                "-device", "e1000,netdev=net0",
                "-nographic");
    }

    static ClientQemu start(String qemu, Path disk, int agentPort, int qmpPort, Path serialLog, Path pidFile) {
        try {
            ProcessBuilder pb = new ProcessBuilder(commandLine(qemu, disk, agentPort, qmpPort))
                    .redirectInput(new File("/dev/null"))
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(serialLog.toFile()));
            long t0 = System.nanoTime();
            Process p = pb.start();
            // The CI script kills this pid if the test JVM dies first.
            Files.writeString(pidFile, p.pid() + "\n");
            return new ClientQemu(p, t0, qmpPort);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    long startedNanos() {
        return startedNanos;
    }

    boolean alive() {
        return process.isAlive();
    }

    /** Connects to QMP (retrying while QEMU opens it) and waits until it reports the VM running. */
    void awaitRunning(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (qmp == null) {
            if (!process.isAlive()) {
                throw new AssertionError("QEMU exited with " + process.exitValue() + " before QMP answered");
            }
            try {
                Socket s = new Socket();
                s.connect(new InetSocketAddress("127.0.0.1", qmpPort), 1000);
                s.setSoTimeout(30_000);
                qmp = s;
                qmpIn = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
                qmpOut = s.getOutputStream();
                qmpIn.readLine();                                  // the greeting
                execute("{\"execute\":\"qmp_capabilities\"}");
            } catch (IOException e) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("no QMP on 127.0.0.1:" + qmpPort, e);
                }
                Thread.sleep(200);
            }
        }
        while (true) {
            JsonObject status = execute("{\"execute\":\"query-status\"}").getJsonObject("return");
            if (status.getBoolean("running")) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("QMP never reported running: " + status);
            }
            Thread.sleep(200);
        }
    }

    /** The client's port forward: host 127.0.0.1:hostPort → guest guestPort. */
    void hostfwdAdd(int hostPort, int guestPort) {
        String command = "hostfwd_add net0 tcp:127.0.0.1:" + hostPort + "-:" + guestPort;
        String text = hmp(command);
        if (!text.isBlank()) {                 // HMP says nothing when the forward is added
            throw new AssertionError(command + ": " + text);
        }
    }

    void hostfwdRemove(int hostPort) {
        String command = "hostfwd_remove net0 tcp:127.0.0.1:" + hostPort;
        String text = hmp(command);
        if (!text.contains("removed")) {
            throw new AssertionError(command + ": " + text);
        }
    }

    private String hmp(String commandLine) {
        JsonObject reply = execute(Json.createObjectBuilder().add("execute", "human-monitor-command")
                .add("arguments", Json.createObjectBuilder().add("command-line", commandLine)).build().toString());
        if (!reply.containsKey("return")) {
            throw new AssertionError(commandLine + ": " + reply);
        }
        return reply.getString("return");
    }

    /** Sends one QMP command and returns its reply (events in between are skipped). */
    synchronized JsonObject execute(String json) {
        try {
            qmpOut.write((json + "\n").getBytes(StandardCharsets.UTF_8));
            qmpOut.flush();
            while (true) {
                String line = qmpIn.readLine();
                if (line == null) {
                    throw new AssertionError("QMP closed while waiting for the reply to " + json);
                }
                try (JsonReader r = Json.createReader(new StringReader(line))) {
                    JsonObject o = r.readObject();
                    if (o.containsKey("return") || o.containsKey("error")) {
                        return o;
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** True when QEMU exited by itself within the timeout (the client waits 30 s, then kills it). */
    boolean exitsWithin(Duration timeout) throws InterruptedException {
        return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    int exitValue() {
        return process.exitValue();
    }

    @Override
    public void close() {
        try {
            if (qmp != null) {
                qmp.close();
            }
        } catch (IOException ignored) {
            // closing anyway
        }
        if (process.isAlive()) {
            process.destroyForcibly();
            try {
                process.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
