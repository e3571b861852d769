package dev.intervirt.agent.e2e;

import dev.intervirt.agent.support.AgentClient;
import dev.intervirt.agent.support.AgentClient.Exchange;
import dev.intervirt.agent.support.JschLogin;
import jakarta.json.JsonObject;
import jakarta.json.JsonObjectBuilder;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static dev.intervirt.agent.support.AgentClient.request;

/**
 * {@code ./intervirt bench --appliance}: the appliance disk booted with the client's command line
 * (KVM off, 1 vCPU, 2 GiB), measured from where the client stands. QEMU start → version (split
 * into kernel, init → agent start, JVM start → listening from the serial log), Add+Start,
 * Connect/Disconnect/SetIpv4 at 10 computers, a switch of 20 (190 Connects) until the probes
 * ping every other member, wipe of 20, QEMU's resident memory with 20 running, the download
 * size. Two of the 20 are intervirtos/current (the probes, reached by SSH over the client's
 * forwards); the others debian/13. Writes a Markdown table to the path in args[4].
 * Args: QEMU DISK SERIAL_LOG PID_FILE REPORT.
 */
public final class ApplianceBench {

    private static final Duration CALL = Duration.ofMinutes(10);
    private static final long CLIENT_TIMEOUT_MS = 10_000;
    private final List<String> slow = new ArrayList<>();
    private final StringBuilder report = new StringBuilder();
    private AgentClient client;

    public static void main(String[] args) throws Exception {
        new ApplianceBench().run(args[0], Path.of(args[1]), Path.of(args[2]), Path.of(args[3]), Path.of(args[4]));
    }

    private void run(String qemu, Path disk, Path serial, Path pidFile, Path out) throws Exception {
        row("| measurement | appliance (TCG, 1 vCPU, 2 GiB) | target |");
        row("|---|---|---|");
        row("| machine load at start (1/5/15 min) | " + Files.readString(Path.of("/proc/loadavg")).substring(0, 14) + " | 2 shared cores |");
        row("| download size (compressed qcow2) | " + Files.size(Path.of(System.getProperty("bench.disk", disk.toString())))
                / (1024 * 1024) + " MiB | — |");
        ClientQemu vm = ClientQemu.start(qemu, disk, 55436, 55437, serial, pidFile);
        try {
            vm.awaitRunning(Duration.ofSeconds(60));
            double version = awaitVersion(vm);
            String log = Files.readString(serial, StandardCharsets.ISO_8859_1);
            for (int i = 0; i < 20 && Double.isNaN(stamp(log, "Command/version")); i++) {
                Thread.sleep(250);                      // the agent logs the request after replying
                log = Files.readString(serial, StandardCharsets.ISO_8859_1);
            }
            row(String.format(Locale.ROOT, "| QEMU start → version | %.1f s | ≤ 45 s |", version));
            double listening = stamp(log, "AgentServer: listening");
            double jvmUp = Double.parseDouble(group(log, "JVM up ([0-9]+) ms")) / 1000;
            double agentOwn = Double.parseDouble(group(log, "started in ([0-9]+) ms")) / 1000;
            row(String.format(Locale.ROOT, "| of which: firmware + GRUB + kernel decompression (QEMU start → kernel clock 0) | %.1f s | |",
                    version - stamp(log, "Command/version")));
            row(String.format(Locale.ROOT, "| of which: kernel start → JVM start (kernel, initramfs, systemd, libvirtd) | %.1f s | |",
                    listening - jvmUp));
            row(String.format(Locale.ROOT, "| of which: JVM start → agent's main (JVM, class loading) | %.1f s | |", jvmUp - agentOwn));
            row(String.format(Locale.ROOT, "| of which: agent's start (CDI, libvirt, reconcile, nftables, WebSocket) → listening | %.1f s | |", agentOwn));

            List<String> ids = new ArrayList<>();
            List<Double> addStart = new ArrayList<>();
            for (int i = 1; i <= 10; i++) {
                ids.add(addAndStart(i, i <= 2 ? "intervirtos/current" : "debian/13", addStart));
            }
            List<Double> connect = new ArrayList<>();
            List<Double> disconnect = new ArrayList<>();
            for (int i = 0; i < ids.size(); i++) {
                for (int j = i + 1; j < ids.size(); j++) {
                    connect.add(ms(ok(call(request("Connect").add("id1", ids.get(i)).add("id2", ids.get(j))))));
                }
            }
            for (int i = 0; i < ids.size(); i++) {
                for (int j = i + 1; j < ids.size(); j++) {
                    disconnect.add(ms(ok(call(request("Disconnect").add("id1", ids.get(i)).add("id2", ids.get(j))))));
                }
            }
            List<Double> setIp = new ArrayList<>();
            for (int round = 0; round < 2; round++) {
                for (int i = 0; i < ids.size(); i++) {
                    setIp.add(ms(ok(call(request("IDWithNewIpv4").add("id", ids.get(i))
                            .add("newIpv4", v4(i + 1, round == 0 ? 200 : 1))))));
                }
            }
            row("| Connect p50 / p99 at 10 (45 links) | " + p(connect) + " | p50 ≤ 100 ms |");
            row("| Disconnect p50 / p99 at 10 | " + p(disconnect) + " | |");
            row("| SetIpv4 p50 / p99 at 10 (20) | " + p(setIp) + " | |");
            for (int i = 11; i <= 20; i++) {
                ids.add(addAndStart(i, "debian/13", addStart));
            }
            row("| AddContainer+StartContainer p50 / p99 (20) | " + p(addStart) + " | p50 ≤ 2 s |");
            long lastStart = System.nanoTime();

            // The switch: the client sends a Connect for every pair.
            int aPort = freePort();
            int bPort = freePort();
            forwardSsh(vm, ids.get(0), aPort, 2201);
            forwardSsh(vm, ids.get(1), bPort, 2202);
            ssh(aPort, "true", Duration.ofMinutes(4));
            ssh(bPort, "true", Duration.ofMinutes(4));
            // As the native bench does (systemd boots finished before the mesh): the switch is
            // measured once the computers' boots are over, i.e. the guest's run queue has been
            // (nearly) empty for 3 s running, read from inside a probe (/proc/loadavg is the
            // guest kernel's; only shell built-ins, so the probe itself adds one task).
            ssh(aPort, "n=0; while [ $n -lt 3 ]; do read a b c r rest < /proc/loadavg; r=${r%/*};"
                    + " if [ \"$r\" -le 2 ]; then n=$((n+1)); else n=0; fi; sleep 1; done", Duration.ofMinutes(10));
            row(String.format(Locale.ROOT, "| the 20 computers' boots over (guest run queue empty 3 s), after the last StartContainer | %.1f s | |",
                    (System.nanoTime() - lastStart) / 1e9));
            long t0 = System.nanoTime();
            List<Double> switchConnects = new ArrayList<>();
            for (int i = 0; i < ids.size(); i++) {
                for (int j = i + 1; j < ids.size(); j++) {
                    switchConnects.add(ms(ok(call(request("Connect").add("id1", ids.get(i)).add("id2", ids.get(j))))));
                }
            }
            double connectsDone = (System.nanoTime() - t0) / 1e9;
            StringBuilder targets = new StringBuilder();
            for (int i = 1; i <= 20; i++) {
                targets.append(' ').append(v4(i, 1));
            }
            // One process per try (the probe's own address looked up once): the probes' shells
            // compete for the vCPU with the computers still booting, and the bench must not
            // measure its own process starts.
            String pingAll = "me=$(ip -o -4 addr show dev eth0); for t in" + targets + "; do case \"$me\" in *\" $t/\"*) continue;; esac;"
                    + " n=0; until ping -c 1 -W 1 $t >/dev/null; do n=$((n+1)); [ $n -ge 30 ] && echo FAIL $t && exit 1; done; done; echo ALL";
            // Both probes at once, as two learners would look.
            CompletableFuture<String> fromB = CompletableFuture.supplyAsync(() -> {
                try {
                    return ssh(bPort, pingAll, Duration.ofMinutes(2));
                } catch (Exception ex) {
                    throw new CompletionException(ex);
                }
            });
            String a = ssh(aPort, pingAll, Duration.ofMinutes(2));
            String b = fromB.get();
            double pinging = (System.nanoTime() - t0) / 1e9;
            row(String.format(Locale.ROOT, "| switch of 20: 190 Connects | %.1f s (p50 / p99 %s) | |", connectsDone, p(switchConnects)));
            row(String.format(Locale.ROOT, "| switch of 20: until both probes ping all 19 others | %.1f s (%s, %s) | ≤ 30 s |",
                    pinging, a.strip(), b.strip()));
            row("| QEMU resident memory with 20 running (host `VmRSS`: guest RAM touched + TCG translation cache) | "
                    + rssMiB(pidFile) + " MiB of 2048 | |");
            // From inside: a computer's /proc/meminfo is libvirt's view of its own limit, but the
            // NUMA node's meminfo in sysfs is the guest kernel's own account of the whole VM.
            row("| guest memory with 20 running, seen from inside (node meminfo) | "
                    + GuestMemory.parse(ssh(aPort, "cat /sys/devices/system/node/node*/meminfo", Duration.ofMinutes(1)))
                    + " | 20 fit with room to spare |");

            Exchange wipe = call(request("Command").add("command", "wipe"));
            row(String.format(Locale.ROOT, "| wipe of 20 | %.1f s (%d progress messages) | |", wipe.millis() / 1000.0, wipe.progress().size()));
            row("| replies slower than the client's 10 s | " + slow.size() + (slow.isEmpty() ? "" : " " + slow) + " | 0 |");
            long s0 = System.nanoTime();
            call(request("Command").add("command", "shutdown"));
            boolean exited = vm.exitsWithin(Duration.ofSeconds(30));
            row(String.format(Locale.ROOT, "| shutdown → QEMU exit | %s | ≤ 30 s |",
                    exited ? String.format(Locale.ROOT, "%.1f s", (System.nanoTime() - s0) / 1e9) : "not within 30 s"));
        } finally {
            if (client != null) {
                client.close();
            }
            vm.close();
            Files.writeString(out, report.toString());
            System.out.print(report);
        }
    }

    private String addAndStart(int i, String image, List<Double> samples) {
        String id = "computer-" + (900 + i);
        Exchange add = ok(call(request("AddContainer").add("id", id).add("ipv4", v4(i, 1))
                .add("ipv6", "fd3:b::" + Integer.toHexString(i)).add("mac", "a:b:c:d:e:" + Integer.toHexString(i))
                .add("internet", false).add("image", image)));
        Exchange start = ok(call(request("StartContainer").add("id", id)));
        samples.add((double) add.millis() + start.millis());
        return id;
    }

    private static String v4(int i, int host) {
        return "192.168." + (100 + i) + "." + host;
    }

    private void forwardSsh(ClientQemu vm, String id, int hostPort, int guestPort) {
        vm.hostfwdAdd(hostPort, guestPort);
        ok(call(request("AddPortForwarding").add("id", id).add("internalPort", 22)
                .add("externalPort", guestPort).add("protocol", "tcp")));
    }

    private double awaitVersion(ClientQemu vm) throws InterruptedException {
        URI url = URI.create("ws://127.0.0.1:55436/containerManagement");
        while (true) {
            if (!vm.alive()) {
                throw new IllegalStateException("QEMU exited");
            }
            if (answersHttp()) {
                try {
                    client = AgentClient.connect(url);
                    Exchange e = client.call(request("Command").add("command", "version").build(), Duration.ofSeconds(10));
                    if ("Version".equals(e.last().getString("type", ""))) {
                        return (System.nanoTime() - vm.startedNanos()) / 1e9;
                    }
                } catch (RuntimeException e) {
                    if (client != null) {
                        client.close();
                        client = null;
                    }
                }
            }
            Thread.sleep(250);
        }
    }

    private static boolean answersHttp() {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", 55436), 2000);
            s.setSoTimeout(2000);
            s.getOutputStream().write("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            return new String(s.getInputStream().readNBytes(5), StandardCharsets.US_ASCII).equals("HTTP/");
        } catch (IOException e) {
            return false;
        }
    }

    private Exchange call(JsonObjectBuilder r) {
        JsonObject request = r.build();
        Exchange e = client.call(request, CALL);
        if (e.progress().isEmpty() && e.millis() > CLIENT_TIMEOUT_MS) {
            slow.add(request.getString("type", "?") + " " + e.millis() + " ms");
        }
        return e;
    }

    private static Exchange ok(Exchange e) {
        if (!e.ok()) {
            throw new IllegalStateException("failed: " + e);
        }
        return e;
    }

    private static double ms(Exchange e) {
        return e.millis();
    }

    private static String p(List<Double> samples) {
        List<Double> s = new ArrayList<>(samples);
        Collections.sort(s);
        double p50 = s.get((int) Math.floor(0.5 * (s.size() - 1)));
        double p99 = s.get((int) Math.ceil(0.99 * (s.size() - 1)));
        return String.format(Locale.ROOT, "%.0f / %.0f ms", p50, p99);
    }

    private static String group(String log, String regex) {
        Matcher m = Pattern.compile(regex).matcher(log);
        return m.find() ? m.group(1) : "?";
    }

    /** The kernel timestamp of the first serial line containing the text. */
    private static double stamp(String log, String text) {
        Matcher m = Pattern.compile("\\[\\s*([0-9.]+)\\][^\\n]*" + Pattern.quote(text)).matcher(log);
        return m.find() ? Double.parseDouble(m.group(1)) : Double.NaN;
    }

    private static long rssMiB(Path pidFile) throws IOException {
        String pid = Files.readString(pidFile).strip();
        for (String line : Files.readAllLines(Path.of("/proc", pid, "status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("\\D", "")) / 1024;
            }
        }
        return -1;
    }

    private static String ssh(int port, String command, Duration patience) throws Exception {
        long deadline = System.nanoTime() + patience.toNanos();
        while (true) {
            try {
                return JschLogin.rootOnLoopback(port, 20_000).runMerged(command, JschLogin.UNTIL_CLOSED).out();
            } catch (com.jcraft.jsch.JSchException e) {
                if (System.nanoTime() > deadline) {
                    throw e;
                }
                Thread.sleep(1000);
            }
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private void row(String line) {
        report.append(line).append('\n');
        System.out.println(line);
    }
}
