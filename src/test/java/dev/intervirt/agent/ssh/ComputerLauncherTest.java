package dev.intervirt.agent.ssh;

import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** What the guest-side helpers get from the client: a bounded environment, the computer's capabilities. */
class ComputerLauncherTest {

    @Test
    void boundingSetNamesEveryCapabilityOfTheMask() {
        assertEquals("-all", ComputerLauncher.boundingSetArg(0));
        assertEquals("-all,+cap_0,+cap_21,+cap_40", ComputerLauncher.boundingSetArg((1L << 0) | (1L << 21) | (1L << 40)));
    }

    @Test
    void clientVariablesThatWouldSteerGuestHelpersAreDropped() {
        Map<String, String> client = new LinkedHashMap<>();
        client.put("LANG", "C.UTF-8");
        client.put("TERM", "xterm");
        client.put("LD_PRELOAD", "/tmp/evil.so");
        client.put("GCONV_PATH", "/tmp");
        client.put("BASH_ENV", "/tmp/x");
        client.put("PATH", "/tmp");
        client.put("HOME", "/tmp");
        client.put("INTERVIRT_AGENT_HELPER", "ivagent:1");
        client.put("bad name", "x");
        client.put("NUL", "a\0b");
        Map<String, String> env = ComputerLauncher.environment(client);
        assertEquals("C.UTF-8", env.get("LANG"));
        assertEquals("xterm", env.get("TERM"));
        assertEquals(ComputerLauncher.PATH, env.get("PATH"));
        assertEquals("/root", env.get("HOME"));
        for (String dropped : new String[]{"LD_PRELOAD", "GCONV_PATH", "BASH_ENV", "bad name", "NUL", "INTERVIRT_AGENT_HELPER"}) {
            assertFalse(env.containsKey(dropped), dropped);
        }
    }
}
