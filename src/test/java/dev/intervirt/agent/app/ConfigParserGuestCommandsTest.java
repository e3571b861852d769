package dev.intervirt.agent.app;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** The power and guest-upgrade commands: disabled by default, split on whitespace, flags over variables. */
class ConfigParserGuestCommandsTest {

    @Test
    void disabledByDefaultSoNoMachinePowersItselfOffByAccident() throws Exception {
        AgentConfig c = ConfigParser.parse(new String[0], Map.of());
        assertEquals(List.of(), c.poweroffCommand());
        assertEquals(List.of(), c.rebootCommand());
        assertEquals(List.of(), c.upgradeCommand());
        assertEquals(AgentConfig.defaults(), c);
    }

    @Test
    void flagsAreSplitOnWhitespaceIntoArgumentLists() throws Exception {
        AgentConfig c = ConfigParser.parse(new String[]{"--poweroff-command", "systemctl  poweroff",
                "--reboot-command=systemctl reboot", "--upgrade-command", " /usr/local/sbin/upgrade\t-q "}, Map.of());
        assertEquals(List.of("systemctl", "poweroff"), c.poweroffCommand());
        assertEquals(List.of("systemctl", "reboot"), c.rebootCommand());
        assertEquals(List.of("/usr/local/sbin/upgrade", "-q"), c.upgradeCommand());
    }

    @Test
    void environmentVariablesAndFlagsWinOverThem() throws Exception {
        Map<String, String> env = Map.of("INTERVIRT_POWEROFF_COMMAND", "systemctl poweroff",
                "INTERVIRT_REBOOT_COMMAND", "systemctl reboot",
                "INTERVIRT_UPGRADE_COMMAND", "apt-get -y -o APT::Status-Fd=1 upgrade");
        AgentConfig c = ConfigParser.parse(new String[0], env);
        assertEquals(List.of("systemctl", "poweroff"), c.poweroffCommand());
        assertEquals(List.of("systemctl", "reboot"), c.rebootCommand());
        assertEquals(List.of("apt-get", "-y", "-o", "APT::Status-Fd=1", "upgrade"), c.upgradeCommand());

        AgentConfig overridden = ConfigParser.parse(new String[]{"--reboot-command", "/bin/true", "--poweroff-command", ""}, env);
        assertEquals(List.of("/bin/true"), overridden.rebootCommand());
        assertEquals(List.of(), overridden.poweroffCommand(), "an empty flag disables what the environment set");
        assertEquals(c.upgradeCommand(), overridden.upgradeCommand());
    }

    @Test
    void blankVariablesMeanDisabled() throws Exception {
        AgentConfig c = ConfigParser.parse(new String[0], Map.of("INTERVIRT_POWEROFF_COMMAND", "   "));
        assertEquals(List.of(), c.poweroffCommand());
    }

    @Test
    void helpListsTheCommands() {
        for (String s : List.of("--poweroff-command", "INTERVIRT_POWEROFF_COMMAND", "--reboot-command", "INTERVIRT_REBOOT_COMMAND",
                "--upgrade-command", "INTERVIRT_UPGRADE_COMMAND")) {
            assertTrue(ConfigParser.HELP.contains(s), s);
        }
    }

    @Test
    void theRecordKeepsItsOwnCopies() {
        java.util.ArrayList<String> cmd = new java.util.ArrayList<>(List.of("systemctl", "poweroff"));
        AgentConfig c = AgentConfig.defaults().withGuestCommands(cmd, List.of(), List.of());
        cmd.clear();
        assertEquals(List.of("systemctl", "poweroff"), c.poweroffCommand());
        assertEquals(c, c.withPort(c.port()));
        assertEquals(c.poweroffCommand(), c.withStateDir(c.stateDir()).poweroffCommand());
    }
}
