package dev.intervirt.agent.host;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** Which processes count as a dead agent's helpers: marked with this owner, a dead agent, a host tool. */
class HelperProcessesTest {

    @Test
    void aMarkedProcessThatIsNoHostToolIsLeftAlone() throws Exception {
        // A "daemon" (sleep) started with the marker of an agent pid that cannot exist.
        ProcessBuilder pb = new ProcessBuilder(List.of("sleep", "30"));
        pb.environment().put(HelperProcesses.VARIABLE, "ivhelpertest:" + Integer.MAX_VALUE);
        Process p = pb.start();
        try {
            HelperProcesses.configure("ivhelpertest");
            assertFalse(HelperProcesses.isHostTool(p.toHandle()), "sleep is not one of the agent's host tools");
            assertEquals(0, HelperProcesses.killOrphans());
            assertTrue(p.isAlive(), "a daemon that inherited the marker survives");
        } finally {
            p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            HelperProcesses.configure("intervirt");
        }
    }

    @Test
    void theAgentsHostToolsAreRecognised() throws Exception {
        Process p = new ProcessBuilder(List.of("ip", "monitor", "link")).start();
        try {
            assertTrue(HelperProcesses.isHostTool(p.toHandle()));
        } finally {
            p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
        assertTrue(HelperProcesses.HELPERS.containsAll(List.of("nft", "ip", "nsenter", "mount", "umount")));
    }
}
