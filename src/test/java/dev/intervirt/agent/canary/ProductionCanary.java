package dev.intervirt.agent.canary;

import dev.intervirt.agent.host.ProcessRunner;
import dev.intervirt.agent.support.AgentClient;
import dev.intervirt.agent.support.WebSocketProbe;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

import static dev.intervirt.agent.support.AgentClient.request;

/**
 * A production agent beside the test suite and the benchmark: proof that tests and tools touch
 * nothing of it. {@code start} runs the agent jar with every production default (network
 * {@code intervirt}, bridge {@code ivbr0}, ports {@code ivc<n>}, tables {@code intervirt}, state
 * {@code /var/lib/intervirt}; only its port differs, {@value #PORT}, so the Vagrant and appliance
 * runs can forward 55436), adds two linked, running containers and a port forward. {@code verify}
 * (after {@code mvn verify} and a short benchmark) checks from where a user stands that all of it
 * is untouched — the same inits, a ping over the link, a connection through the forward, the
 * agent never had to repair its network (it heals itself, which would hide damage) — then removes
 * what {@code start} made. {@code ./intervirt test} runs both around its suite.
 *
 * <p>Its addresses (100.127.254.0/24, fd00:c4a::/64) are used by no test: two agents on one host
 * share the main routing table, so containers of two agents must not share an address.
 */
public final class ProductionCanary {

    static final int PORT = 55400;
    private static final Path STATE = Path.of("target/canary.properties");
    private static final Path LOG = Path.of("target/canary-agent.log");
    private static final String A = "canary-a";
    private static final String B = "canary-b";
    private static final String B4 = "100.127.254.11";
    private static final int INTERNAL = 7401;
    private static final int EXTERNAL = 17401;

    private ProductionCanary() {
    }

    public static void main(String[] args) throws Exception {
        String what = args.length > 0 ? args[0] : "";
        int rc = switch (what) {
            case "start" -> start();
            case "verify" -> verify();
            default -> {
                System.err.println("usage: ProductionCanary start|verify");
                yield 2;
            }
        };
        System.exit(rc);
    }

    private static int start() throws Exception {
        if (Files.exists(Path.of("/var/lib/intervirt/topology.json")) || Files.isDirectory(Path.of("/sys/class/net/ivbr0"))) {
            System.out.println("canary: a production agent's state or bridge exists on this machine; not started"
                    + " (it would share them). CI machines have none.");
            return 0;
        }
        // A copy: the suite's own build rewrites target/intervirt-agent.jar while this agent runs.
        Path jar = Path.of("target/canary-agent.jar").toAbsolutePath();
        Files.copy(Path.of("target/intervirt-agent.jar"), jar, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        List<String> cmd = new ArrayList<>(List.of("setsid", Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        cmd.addAll(List.of(System.getProperty("canary.javaOpts", "").trim().split("\\s+")));
        cmd.removeIf(String::isEmpty);
        cmd.addAll(List.of("-jar", jar.toString(), "--port", Integer.toString(PORT), "--image-server", "none", "--prefetch-images", ""));
        Files.createDirectories(LOG.getParent());
        Process agent = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(LOG.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!WebSocketProbe.upgrades(PORT)) {
            if (!agent.isAlive() || System.nanoTime() > deadline) {
                System.out.println("canary: the production agent did not start; see " + LOG);
                return 1;
            }
            Thread.sleep(100);
        }
        try (AgentClient c = AgentClient.connect(PORT)) {
            ok(c.call(request("AddContainer").add("id", A).add("ipv4", "100.127.254.10").add("ipv6", "fd00:c4a::10")
                    .add("mac", "02:00:00:77:00:01").add("internet", false).add("image", "debian/13")));
            ok(c.call(request("AddContainer").add("id", B).add("ipv4", B4).add("ipv6", "fd00:c4a::11")
                    .add("mac", "02:00:00:77:00:02").add("internet", false).add("image", "debian/13")));
            ok(c.call(request("StartContainer").add("id", A)));
            ok(c.call(request("StartContainer").add("id", B)));
            ok(c.call(request("Connect").add("id1", A).add("id2", B)));
            ok(c.call(request("AddPortForwarding").add("id", B).add("internalPort", INTERNAL).add("externalPort", EXTERNAL)
                    .add("protocol", "tcp")));
        }
        Properties p = new Properties();
        p.setProperty("agentPid", Long.toString(agent.pid()));
        p.setProperty("initA", Integer.toString(initPid("intervirt-" + A)));
        p.setProperty("initB", Integer.toString(initPid("intervirt-" + B)));
        try (var out = Files.newBufferedWriter(STATE)) {
            p.store(out, "production canary");
        }
        List<String> broken = check(p);
        if (!broken.isEmpty()) {
            System.out.println("canary: not working right after start: " + broken);
            return 1;
        }
        System.out.println("canary: production agent (pid " + agent.pid() + ", port " + PORT + ") runs two linked containers"
                + " with a forward; the suite and the benchmark run beside it now");
        return 0;
    }

    private static int verify() throws Exception {
        if (!Files.exists(STATE)) {
            System.out.println("canary: was not started; nothing to verify");
            return 0;
        }
        Properties p = new Properties();
        try (var in = Files.newBufferedReader(STATE)) {
            p.load(in);
        }
        List<String> broken = check(p);
        String log = Files.readString(LOG);
        if (log.contains("changed underneath")) {
            broken.add("the agent had to repair its network while the tests ran (see " + LOG + ")");
        }
        tearDown(Long.parseLong(p.getProperty("agentPid")));
        Files.delete(STATE);
        if (broken.isEmpty()) {
            System.out.println("canary: the production agent's containers, link and forward are untouched after the suite and the benchmark");
            return 0;
        }
        System.out.println("canary: the suite or the benchmark touched the production agent: " + String.join("; ", broken));
        return 1;
    }

    /** What a user of the production agent would notice, as a list of complaints. */
    private static List<String> check(Properties p) {
        List<String> broken = new ArrayList<>();
        long agentPid = Long.parseLong(p.getProperty("agentPid"));
        if (ProcessHandle.of(agentPid).map(ProcessHandle::isAlive).orElse(false) != Boolean.TRUE) {
            broken.add("the agent process is gone");
        }
        for (String[] c : new String[][]{{A, p.getProperty("initA")}, {B, p.getProperty("initB")}}) {
            try {
                int now = initPid("intervirt-" + c[0]);
                if (now != Integer.parseInt(c[1])) {
                    broken.add(c[0] + " was restarted (init " + c[1] + " -> " + now + ")");
                }
            } catch (IOException | RuntimeException e) {
                broken.add(c[0] + " does not run: " + e.getMessage());
            }
        }
        if (broken.isEmpty()) {
            if (!inside("intervirt-" + A, "ping", "-c1", "-W2", B4).ok()) {
                broken.add("no ping over the link " + A + " - " + B);
            }
            if (!forwardDelivers()) {
                broken.add("the forward 127.0.0.1:" + EXTERNAL + " -> " + B + ":" + INTERNAL + " carries nothing");
            }
        }
        return broken;
    }

    private static boolean forwardDelivers() {
        try {
            List<String> argv = List.of("nsenter", "-t", Integer.toString(initPid("intervirt-" + B)), "-n", "-m", "-p",
                    "nc", "-l", "-p", Integer.toString(INTERNAL));
            Process listener = new ProcessBuilder(argv).redirectErrorStream(true).start();
            try {
                Thread.sleep(300);
                ProcessRunner.exec(List.of("sh", "-c", "echo canary | nc -N -w3 127.0.0.1 " + EXTERNAL), null, 10);
                return listener.waitFor(5, TimeUnit.SECONDS) && new String(listener.getInputStream().readAllBytes()).contains("canary");
            } finally {
                listener.destroyForcibly();
            }
        } catch (Exception e) {
            return false;
        }
    }

    /** Removes the containers through the agent, stops it, and removes its network and tables. */
    private static void tearDown(long agentPid) throws Exception {
        if (WebSocketProbe.upgrades(PORT)) {
            try (AgentClient c = AgentClient.connect(PORT)) {
                c.call(request("RemoveContainer").add("id", A));
                c.call(request("RemoveContainer").add("id", B));
            }
        }
        ProcessHandle.of(agentPid).ifPresent(h -> {
            h.destroy();
            h.onExit().orTimeout(20, TimeUnit.SECONDS).join();
        });
        ProcessRunner.exec(List.of("virsh", "-q", "-c", "lxc:///system", "net-destroy", "intervirt"), null, 30);
        ProcessRunner.exec(List.of("virsh", "-q", "-c", "lxc:///system", "net-undefine", "intervirt"), null, 30);
        for (String family : List.of("bridge", "inet")) {
            ProcessRunner.exec(List.of("nft", "delete", "table", family, "intervirt"), null, 30);
        }
        ProcessRunner.exec(List.of("rm", "-f", "/var/lib/intervirt/topology.json", "/var/lib/intervirt/topology.journal"), null, 30);
    }

    private static ProcessRunner.Result inside(String domain, String... command) {
        try {
            List<String> argv = new ArrayList<>(List.of("nsenter", "-t", Integer.toString(initPid(domain)), "-n", "-m", "-p"));
            argv.addAll(List.of(command));
            return ProcessRunner.exec(argv, null, 30);
        } catch (IOException e) {
            return new ProcessRunner.Result(1, "", e.getMessage());
        }
    }

    private static int initPid(String domain) throws IOException {
        String controller = Files.readString(Path.of("/run/libvirt/lxc/" + domain + ".pid")).trim();
        String children = Files.readString(Path.of("/proc", controller, "task", controller, "children")).trim();
        return Integer.parseInt(children.split("\\s+")[0]);
    }

    private static void ok(AgentClient.Exchange x) {
        if (!x.ok()) {
            throw new IllegalStateException("canary request failed: " + x);
        }
    }
}
