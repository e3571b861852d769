package dev.intervirt.agent.host;

import dev.intervirt.agent.support.TestAgent;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static dev.intervirt.agent.support.HostCommands.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Ownership by label, not by name: a domain that merely carries the agent's name prefix (made
 * by hand, without the agent's metadata, or with another owner's) survives the agent's start,
 * whose reconciliation removes the agent's own orphans.
 */
class OwnershipLabelIT {

    private static final String BARE = TestAgent.OWNER + "-byhand";
    private static final String OTHER = TestAgent.OWNER + "-otherowner";

    @AfterAll
    static void tearDown() {
        for (String d : new String[]{BARE, OTHER}) {
            sh("virsh", "-c", "lxc:///system", "undefine", d);
        }
        TestAgent.wipeHost();
    }

    @Test
    void domainsWithTheAgentsPrefixButNotItsLabelAreLeftAlone() throws Exception {
        TestAgent.wipeHost();
        define(BARE, "");
        define(OTHER, "<metadata><iv:container xmlns:iv='https://intervirt.dev/agent/1' id='otherowner' owner='someoneelse'/></metadata>");
        try (TestAgent agent = TestAgent.startKeepingState()) {
            assertTrue(domainExists(BARE), "a domain without the agent's label survives its start");
            assertTrue(domainExists(OTHER), "a domain with another owner's label survives its start");
        }
    }

    private static void define(String name, String metadata) throws Exception {
        Path xml = Files.createTempFile("ivlabel", ".xml");
        Files.writeString(xml, "<domain type='lxc'><name>" + name + "</name>" + metadata
                + "<memory unit='MiB'>64</memory><os><type>exe</type><init>/bin/sh</init></os>"
                + "<devices><filesystem type='mount'><source dir='/'/><target dir='/'/></filesystem></devices></domain>");
        ok("virsh", "-c", "lxc:///system", "define", xml.toString());
        Files.delete(xml);
    }
}
