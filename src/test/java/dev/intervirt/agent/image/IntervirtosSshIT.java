package dev.intervirt.agent.image;

import com.jcraft.jsch.JSchException;
import dev.intervirt.agent.support.AgentClient;
import dev.intervirt.agent.support.AgentClient.Exchange;
import dev.intervirt.agent.support.JschLogin;
import dev.intervirt.agent.support.TestAgent;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;

import static dev.intervirt.agent.support.AgentClient.request;
import static dev.intervirt.agent.support.HostCommands.inside;
import static dev.intervirt.agent.support.HostCommands.sh;
import static org.junit.jupiter.api.Assertions.*;

/**
 * A container from {@code intervirtos/current} (built by prepare), started over the WebSocket,
 * reached through a port forward from a guest port to its port 22: {@code root} logs in with an
 * EMPTY password and runs commands; ssh and docker leave eth0 exactly the agent's addresses.
 */
class IntervirtosSshIT {

    static final String ID = "ivos1";
    static final String IPV4 = "10.77.0.2";
    static final String IPV6 = "fd77::2";
    /** Per test owner, so that two engineers' runs on one host do not collide. */
    static final int GUEST_PORT = 22000 + Math.floorMod(TestAgent.OWNER.hashCode(), 900);

    static TestAgent agent;
    static AgentClient client;

    @BeforeAll
    static void startContainerWithForward() {
        agent = TestAgent.start();
        client = agent.client();
        Exchange add = client.call(request("AddContainer").add("id", ID).add("ipv4", IPV4).add("ipv6", IPV6)
                .add("mac", "02:00:00:77:00:02").add("internet", false).add("image", "intervirtos/current"));
        assertTrue(add.ok(), "intervirtos/current must be in the store (./intervirt prepare builds it): " + add);
        assertTrue(client.call(request("StartContainer").add("id", ID)).ok());
        assertTrue(client.call(request("AddPortForwarding").add("id", ID).add("internalPort", 22)
                .add("externalPort", GUEST_PORT).add("protocol", "tcp")).ok());
    }

    @AfterAll
    static void tearDown() {
        if (client != null) {
            client.call(request("RemoveContainer").add("id", ID));
            client.close();
        }
        if (agent != null) {
            agent.close();
        }
    }

    /** The guest's addresses a client would use: its loopback and its primary (uplink) IPv4 address. */
    static List<String> guestAddresses() {
        String route = sh("ip", "-4", "-o", "route", "get", "192.0.2.1").stdout();
        List<String> words = Arrays.asList(route.trim().split("\\s+"));
        int src = words.indexOf("src");
        return src >= 0 ? List.of("127.0.0.1", words.get(src + 1)) : List.of("127.0.0.1");
    }

    @Test
    void rootLogsInWithAnEmptyPasswordThroughThePortForward() throws Exception {
        for (String host : guestAddresses()) {
            String out = sshUntilUp(host, "", "id -un; . /etc/os-release; echo $ID; hostname");
            List<String> lines = out.lines().toList();
            assertEquals("root", lines.get(0), out);
            assertEquals("debian", lines.get(1), out);
            assertEquals(agent.domain(ID), lines.get(2), "it is the container, not the guest: " + out);
        }
    }

    @Test
    void onlyRootHasTheEmptyPasswordAccountsWithLockedPasswordsAreRefused() throws Exception {
        sshUntilUp("127.0.0.1", "", "true");
        JSchException e = assertThrows(JSchException.class, () -> ssh("daemon", "127.0.0.1", "", "true"));
        assertTrue(e.getMessage().contains("Auth fail"), e.getMessage());
    }

    @Test
    void sshAndDockerRunAndEth0KeepsExactlyTheAgentsAddresses() throws Exception {
        sshUntilUp("127.0.0.1", "", "true");
        String units = ssh("127.0.0.1", "", "systemctl is-enabled ssh docker; systemctl is-active ssh; "
                + "systemctl is-active docker || true; ip -o link show docker0 || true");
        List<String> lines = units.lines().toList();
        assertEquals(List.of("enabled", "enabled", "active"), lines.subList(0, 3), units);
        System.out.println("intervirtos: docker is " + lines.get(3) + (lines.size() > 4 ? ", docker0 exists" : ", no docker0"));
        // Whatever docker does (docker0 if it starts), eth0 carries the agent's addresses and the link-local one only.
        String v4 = inside(agent.domain(ID), "ip", "-4", "-o", "addr", "show", "dev", "eth0").stdout();
        String v6 = inside(agent.domain(ID), "ip", "-6", "-o", "addr", "show", "dev", "eth0").stdout();
        List<String> v4s = v4.lines().map(l -> l.trim().split("\\s+")[3]).toList();
        List<String> v6s = v6.lines().map(l -> l.trim().split("\\s+")[3]).filter(a -> !a.startsWith("fe80:")).toList();
        assertEquals(List.of(IPV4 + "/32"), v4s, v4);
        assertEquals(List.of(IPV6 + "/128"), v6s, v6);
        String tools = ssh("127.0.0.1", "", "for t in curl sudo ip ping arping dig tcpdump traceroute telnet docker docker-compose;"
                + " do command -v $t >/dev/null && echo ok || echo missing-$t; done");
        assertEquals(List.of(), tools.lines().filter(l -> !l.equals("ok")).toList(), tools);
    }

    /**
     * Retries until the image's own OpenSSH answers (first boot makes its host keys), up to 60 s.
     * Until then the agent's SSH server answers the forward (issue 13), so a login alone does not
     * show that sshd runs.
     */
    static String sshUntilUp(String host, String password, String command) throws Exception {
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (true) {
            try {
                if (serverVersion(host).contains("OpenSSH")) {
                    return ssh(host, password, command);
                }
            } catch (JSchException e) {
                if (System.nanoTime() > deadline || e.getMessage().contains("Auth fail")) {
                    throw e;
                }
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("IntervirtOS's own sshd did not answer within 60 s");
            }
            Thread.sleep(500);
        }
    }

    static String serverVersion(String host) throws Exception {
        try (java.net.Socket s = new java.net.Socket()) {
            s.connect(new java.net.InetSocketAddress(host, GUEST_PORT), 5000);
            s.setSoTimeout(5000);
            String line = new java.io.BufferedReader(new java.io.InputStreamReader(s.getInputStream(),
                    StandardCharsets.US_ASCII)).readLine();
            return line == null ? "" : line;
        } catch (java.io.IOException e) {
            return "";
        }
    }

    static String ssh(String host, String password, String command) throws Exception {
        return ssh("root", host, password, command);
    }

    static String ssh(String user, String host, String password, String command) throws Exception {
        JschLogin.Output result = new JschLogin(user, host, GUEST_PORT, password, 10_000).run(command, Duration.ofSeconds(30));
        assertEquals(0, result.exit(), "exit of '" + command + "': " + result.err());
        return result.out();
    }
}
