package dev.intervirt.agent.container;

import dev.intervirt.agent.ssh.ComputerTools;
import dev.intervirt.agent.support.AgentClient;
import dev.intervirt.agent.support.TestAgent;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static dev.intervirt.agent.support.AgentClient.request;
import static dev.intervirt.agent.support.HostCommands.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * A computer defined by an older agent (here: its definition without the tools mount that SFTP
 * needs) is brought up to this agent's definition at the next start of the agent, while it is
 * stopped, and then serves as any other (it starts, its uuid kept).
 */
class DefinitionUpgradeIT {

    @AfterAll
    static void tearDown() {
        TestAgent.wipeHost();
    }

    @Test
    void aStoppedComputerGetsTheCurrentDefinitionWhenTheAgentStarts() throws Exception {
        String domain;
        String uuid;
        TestAgent first = TestAgent.start();
        try (AgentClient client = first.client()) {
            assertTrue(client.call(request("AddContainer").add("id", "old1").add("ipv4", "10.64.0.1").add("ipv6", "fd00:64::1")
                    .add("mac", "02:00:00:64:00:01").add("internet", false).add("image", "debian/13")).ok());
            domain = first.domain("old1");
            String xml = ok("virsh", "-c", "lxc:///system", "dumpxml", "--inactive", domain);
            assertTrue(xml.contains(ComputerTools.MOUNT_POINT), "this agent's definition has the tools mount");
            uuid = ok("virsh", "-c", "lxc:///system", "domuuid", domain).trim();
            // What an older agent wrote: the same domain without the tools mount.
            String old = xml.replaceAll("(?s)<filesystem type='mount' accessmode='passthrough'>\\s*<source dir='[^']*computer-tools'/>.*?</filesystem>", "");
            assertFalse(old.contains(ComputerTools.MOUNT_POINT), "the older definition lacks the mount");
            Path file = Files.createTempFile("ivold", ".xml");
            Files.writeString(file, old);
            ok("virsh", "-c", "lxc:///system", "define", file.toString());
            Files.delete(file);
            assertFalse(ok("virsh", "-c", "lxc:///system", "dumpxml", "--inactive", domain).contains(ComputerTools.MOUNT_POINT));
        } finally {
            first.stop(); // the state stays for the next agent
        }
        try (TestAgent agent = TestAgent.startKeepingState(); AgentClient client = agent.client()) {
            String xml = ok("virsh", "-c", "lxc:///system", "dumpxml", "--inactive", domain);
            assertTrue(xml.contains(ComputerTools.MOUNT_POINT), "redefined at the agent's start: " + xml);
            assertEquals(uuid, ok("virsh", "-c", "lxc:///system", "domuuid", domain).trim(), "the same domain (uuid kept)");
            assertTrue(client.call(request("StartContainer").add("id", "old1")).ok());
            assertTrue(inside(domain, "test", "-x", ComputerTools.MOUNT_POINT + "/sftp-server").ok(), "the tools are there inside");
        }
    }
}
