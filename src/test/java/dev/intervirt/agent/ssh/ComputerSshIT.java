package dev.intervirt.agent.ssh;

import dev.intervirt.agent.support.AgentClient;
import dev.intervirt.agent.support.TestAgent;
import org.apache.sshd.client.channel.ChannelExec;
import org.apache.sshd.client.channel.ClientChannelEvent;
import org.apache.sshd.client.session.ClientSession;
import org.apache.sshd.sftp.client.fs.SftpFileSystemProvider;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

import static dev.intervirt.agent.support.AgentClient.request;
import static dev.intervirt.agent.support.HostCommands.sh;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Issue 13, the SSH half: every computer (IntervirtOS with its OpenSSH, debian/trixie without
 * sshd, a busybox image without sshd, apt or glibc) gives the desktop client's own SSH library
 * (Apache MINA SSHD, root, `none` / password "") a PTY shell, exec channels and SFTP through a
 * real AddPortForwarding to its port 22, and nothing else answers that login.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ComputerSshIT {

    record Computer(String id, String image, String ipv4, String mac, int port) {
    }

    static final int BASE = 24000 + 3 * Math.floorMod(TestAgent.OWNER.hashCode(), 300);
    static final Map<String, Computer> COMPUTERS = Map.of(
            "os", new Computer("sshos", "intervirtos/current", "10.78.0.2", "02:00:00:78:00:02", BASE),
            "deb", new Computer("sshdeb", "debian/trixie", "10.78.0.3", "02:00:00:78:00:03", BASE + 1),
            "bb", new Computer("sshbb", "ivtest/busybox", "10.78.0.4", "02:00:00:78:00:04", BASE + 2));

    static TestAgent agent;
    static AgentClient client;
    static SshClientSupport ssh;

    @BeforeAll
    static void startComputers() {
        var built = sh("scripts/build-busybox-image.sh");
        assertTrue(built.ok(), "test image: " + built.stderr());
        agent = TestAgent.start();
        client = agent.client();
        for (Computer c : COMPUTERS.values()) {
            var add = client.call(request("AddContainer").add("id", c.id()).add("ipv4", c.ipv4())
                    .add("ipv6", "fd78::" + c.ipv4().substring(c.ipv4().lastIndexOf('.') + 1))
                    .add("mac", c.mac()).add("internet", false).add("image", c.image()));
            assertTrue(add.ok(), c.image() + " must be in the image store (./intervirt prepare): " + add);
            assertTrue(client.call(request("StartContainer").add("id", c.id())).ok());
            assertTrue(client.call(request("AddPortForwarding").add("id", c.id()).add("internalPort", 22)
                    .add("externalPort", c.port()).add("protocol", "tcp")).ok());
        }
        ssh = new SshClientSupport();
    }

    @AfterAll
    static void tearDown() {
        if (ssh != null) {
            ssh.close();
        }
        if (client != null) {
            for (Computer c : COMPUTERS.values()) {
                client.call(request("RemoveContainer").add("id", c.id()));
            }
            client.close();
        }
        if (agent != null) {
            agent.close();
        }
    }

    /** Logs in through the forward, retrying while a computer boots (IntervirtOS's sshd starting). */
    static ClientSession login(Computer c) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (true) {
            try {
                return ssh.login(SshClientSupport.HOST, c.port());
            } catch (IOException | RuntimeException e) {
                if (System.nanoTime() > deadline) {
                    throw e;
                }
                Thread.sleep(300);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"os", "deb", "bb"})
    @Order(1)
    void ptyShellIsRootInsideTheComputer(String name) throws Exception {
        Computer c = COMPUTERS.get(name);
        try (ClientSession s = login(c)) {
            String out = SshClientSupport.shell(s, Map.of("IVTEST_VAR", "from-client"),
                    "echo UID=$(id -u) TERM=$TERM VAR=$IVTEST_VAR; stty size; cat /proc/sys/kernel/hostname;"
                            + " tty >/dev/null && echo TTY=yes; cat /proc/net/fib_trie; exit\n", 101, 33);
            // The agent's server passes the client's variables on; IntervirtOS's OpenSSH only
            // what its AcceptEnv allows (the image's own configuration).
            assertTrue(out.contains(name.equals("os") ? "UID=0 TERM=xterm VAR=" : "UID=0 TERM=xterm VAR=from-client"), out);
            assertTrue(out.contains("33 101"), "pty has the client's size: " + out);
            assertTrue(out.contains("TTY=yes"), out);
            assertTrue(out.contains(agent.domain(c.id())), "the computer's hostname: " + out);
            assertTrue(out.contains(c.ipv4()), "the computer's own eth0 address: " + out);
            for (String guest : guestAddresses()) {
                if (!guest.startsWith("127.")) {
                    assertFalse(out.contains(guest), "the guest's address " + guest + " is not in the computer: " + out);
                }
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"os", "deb", "bb"})
    @Order(2)
    void execChannelsCarryExitStatusSeparateStreamsAndBinaryStdin(String name) throws Exception {
        try (ClientSession s = login(COMPUTERS.get(name))) {
            var r = SshClientSupport.exec(s, "echo out; echo err >&2; exit 7");
            assertEquals(new SshClientSupport.Exec(7, "out\n", "err\n"), r);
            assertEquals("0\n", SshClientSupport.exec(s, "id -u").out());
            if (!name.equals("os")) {
                // The agent's processes are held like the computer's own: its cgroups (memory, pids,
                // devices) and its capability bounding set, not the agent's.
                String mine = SshClientSupport.exec(s, "grep -E ':(memory|pids|devices):' /proc/self/cgroup;"
                        + " grep CapBnd /proc/self/status").out();
                String init = SshClientSupport.exec(s, "grep -E ':(memory|pids|devices):' /proc/1/cgroup;"
                        + " grep CapBnd /proc/1/status").out();
                assertEquals(init, mine);
                assertEquals(4, mine.lines().count(), mine);
                assertNotEquals(sh("grep", "CapBnd", "/proc/self/status").stdout(), mine.lines().toList().get(3) + "\n",
                        "fewer capabilities than the agent");
            }
            byte[] data = new byte[1 << 20];
            new Random(13).nextBytes(data);
            try (ChannelExec ch = s.createExecChannel("cat > /tmp/ivbin; sha256sum /tmp/ivbin; cat /tmp/ivbin")) {
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                ch.setIn(new ByteArrayInputStream(data));
                ch.setOut(out);
                ch.setErr(System.err);
                ch.open().verify(Duration.ofSeconds(10));
                ch.waitFor(EnumSet.of(ClientChannelEvent.CLOSED), Duration.ofSeconds(60));
                assertEquals(0, ch.getExitStatus());
                byte[] all = out.toByteArray();
                String hash = sha256(data);
                String firstLine = new String(all, 0, 65, StandardCharsets.US_ASCII);
                assertEquals(hash + " ", firstLine, "stdin arrived whole, EOF passed on");
                int start = new String(all, StandardCharsets.ISO_8859_1).indexOf('\n') + 1;
                assertEquals(hash, sha256(java.util.Arrays.copyOfRange(all, start, all.length)), "stdout is binary-clean");
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"os", "deb", "bb"})
    @Order(3)
    void sftpWorksOnTheComputersOwnFiles(String name) throws Exception {
        Computer c = COMPUTERS.get(name);
        login(c).close();
        // The client's URI, without its empty password, which its library refuses (AgentSshServerTest).
        try (FileSystem fs = FileSystems.newFileSystem(SftpFileSystemProvider.createFileSystemURI(
                SshClientSupport.HOST, c.port(), "root", null), Collections.emptyMap());
             ClientSession s = login(c)) {
            Path dir = fs.getPath("/root/ivsftp");
            Files.createDirectories(dir);
            Path a = dir.resolve("a.txt");
            Files.writeString(a, "hello from sftp\n");
            try (Stream<Path> list = Files.list(dir)) {
                assertEquals(List.of("a.txt"), list.map(p -> p.getFileName().toString()).toList());
            }
            assertEquals("hello from sftp\n", Files.readString(a));
            assertEquals("hello from sftp\n", SshClientSupport.exec(s, "cat /root/ivsftp/a.txt").out(),
                    "the file is in the computer");
            Path b = dir.resolve("b.txt");
            Files.move(a, b);
            assertFalse(Files.exists(a));
            assertEquals("hello from sftp\n", Files.readString(b));
            Files.delete(b);
            assertEquals("gone\n", SshClientSupport.exec(s, "test -e /root/ivsftp/b.txt || echo gone").out());

            // An absolute symlink resolves in the computer, never in the guest.
            assertEquals(0, SshClientSupport.exec(s, "ln -sf /etc/os-release /root/ivsftp/osr").status());
            String inside = SshClientSupport.exec(s, "cat /etc/os-release").out();
            assertEquals(inside, Files.readString(dir.resolve("osr")));
            assertNotEquals(Files.readString(Path.of("/etc/os-release")), inside, "computer and guest differ");

            // 50 MiB round trip: same sha256 written, inside the computer and read back.
            byte[] block = new byte[1 << 20];
            MessageDigest written = MessageDigest.getInstance("SHA-256");
            Random random = new Random(50);
            Path big = dir.resolve("big.bin");
            try (OutputStream out = Files.newOutputStream(big)) {
                for (int i = 0; i < 50; i++) {
                    random.nextBytes(block);
                    written.update(block);
                    out.write(block);
                }
            }
            String hash = HexFormat.of().formatHex(written.digest());
            assertEquals(50L << 20, Files.size(big));
            assertTrue(SshClientSupport.exec(s, "sha256sum /root/ivsftp/big.bin").out().startsWith(hash + " "));
            MessageDigest read = MessageDigest.getInstance("SHA-256");
            try (InputStream in = Files.newInputStream(big)) {
                for (int n; (n = in.read(block)) >= 0; ) {
                    read.update(block, 0, n);
                }
            }
            assertEquals(hash, HexFormat.of().formatHex(read.digest()));
            Files.delete(big);
            Files.delete(dir.resolve("osr"));
            Files.delete(dir);
        }
    }

    @Test
    @Order(4)
    void intervirtosKeepsItsOwnOpenSshAndTheOthersGetTheAgents() throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        String version;
        do {
            try (ClientSession s = login(COMPUTERS.get("os"))) {
                version = s.getServerVersion();
            }
            if (!version.contains("OpenSSH")) {
                Thread.sleep(500);
            }
        } while (!version.contains("OpenSSH") && System.nanoTime() < deadline);
        assertTrue(version.contains("OpenSSH"), "IntervirtOS's own sshd answers once it runs: " + version);
        for (String name : List.of("deb", "bb")) {
            try (ClientSession s = login(COMPUTERS.get(name))) {
                assertTrue(s.getServerVersion().contains("APACHE-SSHD"), s.getServerVersion());
            }
        }
    }

    @Test
    @Order(5)
    void aLearnersOwnSshdOnPort22IsReachedInsteadOfTheAgents() throws Exception {
        Computer deb = COMPUTERS.get("deb");
        try (ClientSession s = login(deb)) {
            var started = SshClientSupport.exec(s, "setsid perl -MIO::Socket::INET -e '"
                    + "$s=IO::Socket::INET->new(LocalPort=>22,Listen=>5,ReuseAddr=>1) or die $!;"
                    + " while($c=$s->accept){print $c \"SSH-2.0-LearnerSshd\\r\\n\"; close $c}'"
                    + " </dev/null >/tmp/learner.log 2>&1 & echo $! > /tmp/learner.pid");
            assertEquals(0, started.status(), started.err());
            try {
                long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
                String banner;
                do {
                    banner = firstLine(deb.port());
                } while (!banner.startsWith("SSH-2.0-LearnerSshd") && System.nanoTime() < deadline);
                assertEquals("SSH-2.0-LearnerSshd", banner, "the forward reaches the learner's own listener");
            } finally {
                SshClientSupport.exec(s, "kill $(cat /tmp/learner.pid)");
            }
        }
        Thread.sleep(300);
        assertTrue(firstLine(deb.port()).startsWith("SSH-2.0-APACHE-SSHD"), "the agent's server once it is gone");
    }

    @Test
    @Order(6)
    void theLoginWorksOnlyThroughAForward() throws Exception {
        // The guest's own port 22: no root login there.
        for (String host : guestAddresses()) {
            assertThrows(Exception.class, () -> ssh.login(host, 22).close(), "guest " + host + ":22");
        }
        // The gateways' listeners (every agent's on this host) refuse connections that no forward DNATed.
        List<Integer> gateways = listeningPorts("169.254.0.1");
        assertTrue(gateways.size() >= COMPUTERS.size(), "one gateway per forward: " + gateways);
        for (int port : gateways) {
            assertThrows(IOException.class, () -> {
                try (Socket sock = new Socket()) {
                    sock.connect(new InetSocketAddress("169.254.0.1", port), 3000);
                }
            }, "gateway port " + port + " without a forward");
        }
        // The agent's SSH server on loopback serves nothing that did not come through a gateway.
        long pid = ProcessHandle.current().pid();
        List<Integer> own = new ArrayList<>();
        for (String line : sh("ss", "-ltnpH", "src", "127.0.0.1").stdout().lines().toList()) {
            if (line.contains("pid=" + pid + ",")) {
                own.add(Integer.parseInt(line.trim().split("\\s+")[3].replaceAll(".*:", "")));
            }
        }
        assertFalse(own.isEmpty(), "the agent's SSH server listens on loopback");
        for (int port : own) {
            assertThrows(Exception.class, () -> ssh.login("127.0.0.1", port).close(), "loopback port " + port);
        }
        // A computer's own address, from the guest: nothing on 22 of a computer without sshd.
        for (String name : List.of("deb", "bb")) {
            Computer c = COMPUTERS.get(name);
            assertThrows(Exception.class, () -> ssh.login(c.ipv4(), 22).close(), name + " at " + c.ipv4() + ":22");
        }
        // From one computer to another (linked): nothing answers the login on the other's address,
        // and the gateways are out of the computers' reach.
        assertTrue(client.call(request("Connect").add("id1", "sshbb").add("id2", "sshdeb")).ok());
        try (ClientSession s = login(COMPUTERS.get("bb"))) {
            var toDeb = SshClientSupport.exec(s, "nc -w 3 10.78.0.3 22 </dev/null; echo rc=$?");
            assertFalse(toDeb.out().contains("SSH-"), "another computer's port 22: " + toDeb);
            var toPeer = SshClientSupport.exec(s, "ping -c1 -W2 10.78.0.3 >/dev/null && echo ping-ok");
            assertTrue(toPeer.out().contains("ping-ok"), "the link works, so the refusal is the port's: " + toPeer);
            for (int port : gateways) {
                var toGateway = SshClientSupport.exec(s, "nc -w 2 169.254.0.1 " + port + " </dev/null; echo rc=$?");
                assertFalse(toGateway.out().contains("SSH-"), "gateway " + port + " from a computer: " + toGateway);
            }
        } finally {
            client.call(request("Disconnect").add("id1", "sshbb").add("id2", "sshdeb"));
        }
    }

    /** Time from StartContainer to the first shell output, on debian/trixie (no sshd). */
    @Test
    @Order(7)
    void timeToFirstShellAfterStart() throws Exception {
        Computer deb = COMPUTERS.get("deb");
        int tries = Integer.getInteger("intervirt.test.sshTries", 10);
        List<Long> millis = new ArrayList<>();
        for (int i = 0; i < tries; i++) {
            assertTrue(client.call(request("StopContainer").add("id", deb.id())).ok());
            long t0 = System.nanoTime();
            assertTrue(client.call(request("StartContainer").add("id", deb.id())).ok());
            try (ClientSession s = login(deb)) {
                String out = SshClientSupport.shell(s, Map.of(), "echo UID=$(id -u); exit\n", 80, 24);
                assertTrue(out.contains("UID=0"), out);
            }
            millis.add((System.nanoTime() - t0) / 1_000_000);
        }
        Collections.sort(millis);
        System.out.println("SSH first shell after StartContainer (debian/trixie, " + tries + " tries): p50 "
                + millis.get(millis.size() / 2) + " ms, min " + millis.get(0) + " ms, max " + millis.get(millis.size() - 1)
                + " ms " + millis);
    }

    // ---- helpers

    static String firstLine(int port) {
        try (Socket sock = new Socket()) {
            sock.connect(new InetSocketAddress("127.0.0.1", port), 3000);
            sock.setSoTimeout(5000);
            BufferedReader r = new BufferedReader(new InputStreamReader(sock.getInputStream(), StandardCharsets.US_ASCII));
            String line = r.readLine();
            return line == null ? "" : line;
        } catch (IOException e) {
            return "";
        }
    }

    static List<Integer> listeningPorts(String address) {
        List<Integer> ports = new ArrayList<>();
        for (String line : sh("ss", "-ltnH", "src", address).stdout().lines().toList()) {
            String local = line.trim().split("\\s+")[3];
            ports.add(Integer.parseInt(local.substring(local.lastIndexOf(':') + 1)));
        }
        return ports;
    }

    /** The guest's addresses a client would use: its loopback and its primary (uplink) IPv4 address. */
    static List<String> guestAddresses() {
        String route = sh("ip", "-4", "-o", "route", "get", "192.0.2.1").stdout();
        List<String> words = List.of(route.trim().split("\\s+"));
        int src = words.indexOf("src");
        return src >= 0 ? List.of("127.0.0.1", words.get(src + 1)) : List.of("127.0.0.1");
    }

    static String sha256(byte[] data) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    }
}
