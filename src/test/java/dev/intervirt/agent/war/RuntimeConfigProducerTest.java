package dev.intervirt.agent.war;

import dev.intervirt.agent.app.AgentConfig;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** The WAR's configuration: INTERVIRT_* from the environment, overridden by system properties of the same names. */
class RuntimeConfigProducerTest {

    @Test
    void nothingSetGivesTheStandaloneDefaults() {
        assertEquals(AgentConfig.defaults(), RuntimeConfigProducer.read(Map.of(), Map.of()));
    }

    @Test
    void environmentIsReadAndSystemPropertiesWin() {
        AgentConfig c = RuntimeConfigProducer.read(
                Map.of("INTERVIRT_OWNER_NAME", "fromenv", "INTERVIRT_PORT", "8080", "INTERVIRT_STATE_DIR", "/srv/iv",
                        "PATH", "/usr/bin"),
                Map.of("INTERVIRT_OWNER_NAME", "fromprop", "INTERVIRT_UPGRADE_COMMAND", "/usr/local/bin/upgrade --all",
                        "intervirt.ignored", "x", "java.version", "17"));
        assertEquals("fromprop", c.ownerName());
        assertEquals(8080, c.port());
        assertEquals(Path.of("/srv/iv"), c.stateDir());
        assertEquals(Path.of("/var/lib/intervirt/images"), c.imageDir(), "the image store is its own setting, as in the jar");
        assertEquals(List.of("/usr/local/bin/upgrade", "--all"), c.upgradeCommand());
    }

    @Test
    void aBadValueFailsWithTheSettingNamed() {
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> RuntimeConfigProducer.read(Map.of(), Map.of("INTERVIRT_MEMORY_MIB", "lots")));
        assertTrue(e.getMessage().contains("INTERVIRT_MEMORY_MIB must be a whole number") && e.getMessage().contains("lots"), e.getMessage());
        assertTrue(e.getMessage().contains("system properties"), e.getMessage());
    }
}
