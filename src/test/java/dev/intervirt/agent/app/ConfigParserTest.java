package dev.intervirt.agent.app;

import dev.intervirt.agent.app.ConfigParser.UsageException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class ConfigParserTest {

    static AgentConfig parse(Map<String, String> env, String... args) throws UsageException {
        return ConfigParser.parse(args, env);
    }

    static AgentConfig parse(String... args) throws UsageException {
        return parse(Map.of(), args);
    }

    static UsageException usage(Map<String, String> env, String... args) {
        return assertThrows(UsageException.class, () -> ConfigParser.parse(args, env));
    }

    /** What the parser sets, in one list, so that a test compares every setting at once (the list shows all that differ). */
    static List<Object> settings(AgentConfig c) {
        return List.of(c.port(), c.libvirtUri(), c.stateDir(), c.imageDir(), c.bridge(), c.ownerName(), c.domainPrefix(),
                c.portPrefix(), c.memoryMiB(), c.pidsMax(), c.stopGrace(), c.maxMessageBytes(), c.debug());
    }

    static UsageException usage(String... args) {
        return usage(Map.of(), args);
    }

    @Test
    void defaults() throws Exception {
        AgentConfig c = parse();
        assertEquals(List.of(55436, "lxc:///system", Path.of("/var/lib/intervirt"), Path.of("/var/lib/intervirt/images"), "ivbr0",
                "intervirt", "intervirt-", "ivc", 512L, 2048L, Duration.ofSeconds(7), 64 * 1024, false), settings(c));
        assertEquals(AgentConfig.defaults(), c);
    }

    @Test
    void environmentVariables() throws Exception {
        AgentConfig c = parse(Map.ofEntries(
                Map.entry("INTERVIRT_PORT", "1234"),
                Map.entry("INTERVIRT_LIBVIRT_URI", "lxc:///session"),
                Map.entry("INTERVIRT_STATE_DIR", "/tmp/iv-state"),
                Map.entry("INTERVIRT_IMAGE_DIR", "/tmp/iv-images"),
                Map.entry("INTERVIRT_BRIDGE", "br7"),
                Map.entry("INTERVIRT_OWNER_NAME", "ivtest"),
                Map.entry("INTERVIRT_PORT_PREFIX", "tv"),
                Map.entry("INTERVIRT_MEMORY_MIB", "256"),
                Map.entry("INTERVIRT_PIDS_MAX", "100"),
                Map.entry("INTERVIRT_STOP_GRACE_SECONDS", "3"),
                Map.entry("INTERVIRT_MAX_MESSAGE_BYTES", "2048"),
                Map.entry("INTERVIRT_DEBUG", "true")));
        assertEquals(List.of(1234, "lxc:///session", Path.of("/tmp/iv-state"), Path.of("/tmp/iv-images"), "br7",
                "ivtest", "ivtest-", "tv", 256L, 100L, Duration.ofSeconds(3), 2048, true), settings(c));
    }

    @Test
    void blankEnvironmentVariablesAreIgnored() throws Exception {
        assertEquals(AgentConfig.defaults(), parse(Map.of("INTERVIRT_PORT", "", "INTERVIRT_STATE_DIR", "  ")));
    }

    @Test
    void unrelatedEnvironmentIsIgnored() throws Exception {
        assertEquals(AgentConfig.defaults(), parse(Map.of("PORT", "1", "INTERVIRT_BIND", "127.0.0.1", "HOME", "/root")));
    }

    @Test
    void flagsWinOverEnvironment() throws Exception {
        Map<String, String> env = Map.of("INTERVIRT_PORT", "1111", "INTERVIRT_STATE_DIR", "/env/state",
                "INTERVIRT_LIBVIRT_URI", "lxc:///env");
        AgentConfig c = parse(env, "--port", "2222", "--state-dir", "/flag/state");
        assertEquals(2222, c.port());
        assertEquals(Path.of("/flag/state"), c.stateDir());
        assertEquals("lxc:///env", c.libvirtUri(), "a variable without a flag still counts");
    }

    @Test
    void flagWinsEvenWhenTheEnvironmentValueIsInvalid() throws Exception {
        assertEquals(2222, parse(Map.of("INTERVIRT_PORT", "nonsense"), "--port", "2222").port());
    }

    @Test
    void equalsForm() throws Exception {
        AgentConfig c = parse("--port=123", "--libvirt-uri=lxc:///system?x=y", "--state-dir=/srv/iv");
        assertEquals(123, c.port());
        assertEquals("lxc:///system?x=y", c.libvirtUri(), "only the first '=' splits");
        assertEquals(Path.of("/srv/iv"), c.stateDir());
    }

    @Test
    void lastFlagWins() throws Exception {
        assertEquals(3, parse("--port", "1", "--port=2", "--port", "3").port());
    }

    @Test
    void imageDirIsItsOwnSettingWhateverTheStateDir() throws Exception {
        // As --help says: the state directory never moves the (shared) image store.
        assertEquals(Path.of("/var/lib/intervirt/images"), parse("--state-dir", "/srv/iv").imageDir());
        assertEquals(Path.of("/img"), parse("--state-dir", "/srv/iv", "--image-dir", "/img").imageDir());
        assertEquals(Path.of("/var/lib/intervirt/images"), parse(Map.of("INTERVIRT_STATE_DIR", "/envstate")).imageDir());
    }

    @Test
    void pathsAreMadeAbsoluteAndNormal() throws Exception {
        AgentConfig c = parse("--state-dir", "/srv/./iv/../iv2", "--image-dir", "relative/images");
        assertEquals(Path.of("/srv/iv2"), c.stateDir());
        assertTrue(c.imageDir().isAbsolute());
        assertTrue(c.imageDir().endsWith(Path.of("relative/images")));
    }

    @Test
    void debugFlag() throws Exception {
        assertTrue(parse("--debug").debug());
        assertFalse(parse(Map.of("INTERVIRT_DEBUG", "true"), "--debug=false").debug());
        assertFalse(parse(Map.of("INTERVIRT_DEBUG", "no")).debug());
    }

    @Test
    void favorCgroupMovesIsOnUnlessTurnedOff() throws Exception {
        assertTrue(parse().favorCgroupMoves());
        assertFalse(parse("--favor-cgroup-moves", "false").favorCgroupMoves());
        assertFalse(parse(Map.of("INTERVIRT_FAVOR_CGROUP_MOVES", "False")).favorCgroupMoves());
        assertTrue(parse(Map.of("INTERVIRT_FAVOR_CGROUP_MOVES", "false"), "--favor-cgroup-moves=true").favorCgroupMoves());
        UsageException e = usage(Map.of(), "--favor-cgroup-moves", "no");
        assertTrue(e.getMessage().contains("--favor-cgroup-moves must be true or false"), e.getMessage());
    }

    @Test
    void flushBeforeReplyIsOffUnlessTurnedOn() throws Exception {
        assertFalse(parse().flushBeforeReply());
        assertTrue(parse("--flush-before-reply", "true").flushBeforeReply());
        assertTrue(parse(Map.of("INTERVIRT_FLUSH_BEFORE_REPLY", "TRUE")).flushBeforeReply());
        assertFalse(parse(Map.of("INTERVIRT_FLUSH_BEFORE_REPLY", "true"), "--flush-before-reply=false").flushBeforeReply());
        UsageException e = usage(Map.of(), "--flush-before-reply", "yes");
        assertTrue(e.getMessage().contains("--flush-before-reply must be true or false"), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"--help", "-h"})
    void helpReturnsNull(String flag) throws Exception {
        assertNull(parse(flag));
        assertNull(parse("--port", "1", flag));
        assertNull(parse(flag, "--bogus"), "help wins over later errors");
    }

    @Test
    void helpTextNamesEveryFlagAndVariable() {
        ConfigParser.SETTINGS.forEach((flag, var) -> {
            assertTrue(ConfigParser.HELP.contains(flag + " "), flag);
            assertTrue(ConfigParser.HELP.contains(var), var);
        });
        assertTrue(ConfigParser.HELP.contains("--help"));
        assertFalse(ConfigParser.HELP.contains("--bind"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"--bind", "--bind=0.0.0.0", "--bind=127.0.0.1"})
    void bindIsRefusedClearly(String arg) {
        UsageException e = usage(arg, "127.0.0.1");
        assertTrue(e.getMessage().contains("--bind"), e.getMessage());
        assertTrue(e.getMessage().contains("all interfaces"), e.getMessage());
    }

    @Test
    void unknownOption() {
        UsageException e = usage("--nope");
        assertTrue(e.getMessage().contains("--nope"), e.getMessage());
        UsageException e2 = usage("stray");
        assertTrue(e2.getMessage().contains("stray"), e2.getMessage());
    }

    @Test
    void missingValue() {
        UsageException e = usage("--port");
        assertTrue(e.getMessage().contains("--port"), e.getMessage());
        assertTrue(e.getMessage().contains("value"), e.getMessage());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "--port|abc", "--port|0", "--port|65536", "--port|-1", "--port|1.5", "--port|''", "--port|99999999999",
            "--memory-mib|1", "--memory-mib|lots", "--stop-grace-seconds|301", "--stop-grace-seconds|-1",
            "--max-message-bytes|10", "--max-message-bytes|999999999",
            "--bridge|a-very-long-bridge-name", "--bridge|br 0", "--bridge|0br", "--bridge|br-0", "--bridge|''",
            "--owner-name|bad;name", "--owner-name|t123456789t123456789t1234", "--owner-name|9x",
            "--port-prefix|abcdef", "--port-prefix|iv-c", "--pids-max|15", "--pids-max|many",
            "--state-dir|''", "--state-dir|/a:b", "--state-dir|/a,b", "--image-dir|/x:y"})
    void badValuesNameTheFlag(String flag, String value) {
        UsageException e = usage(flag, value);
        assertTrue(e.getMessage().contains(flag), e.getMessage());
        UsageException e2 = usage(flag + "=" + value);
        assertTrue(e2.getMessage().contains(flag), e2.getMessage());
    }

    @Test
    void badEnvironmentValueIsRefused() {
        UsageException e = usage(Map.of("INTERVIRT_PORT", "abc"));
        assertTrue(e.getMessage().contains("--port"), e.getMessage());
        assertTrue(e.getMessage().contains("abc"), e.getMessage());
    }

    @Test
    void boundaryValuesAreAccepted() throws Exception {
        assertEquals(1, parse("--port", "1").port());
        assertEquals(65535, parse("--port", "65535").port());
        assertEquals(" 80 ".trim(), String.valueOf(parse("--port", " 80 ").port()));
        assertEquals(Duration.ZERO, parse("--stop-grace-seconds", "0").stopGrace());
        assertEquals("b23456789012345", parse("--bridge", "b23456789012345").bridge());
        assertEquals(32, parse("--memory-mib", "32").memoryMiB());
        assertEquals("t123456789t123456789t123", parse("--owner-name", "t123456789t123456789t123").ownerName());
        assertEquals("abcde", parse("--port-prefix", "abcde").portPrefix());
        assertEquals(16, parse("--pids-max", "16").pidsMax());
    }

    @Test
    void withersKeepTheRest() throws Exception {
        AgentConfig c = parse("--debug", "--bridge", "br9");
        AgentConfig p = c.withPort(4000);
        assertEquals(4000, p.port());
        assertEquals("br9", p.bridge());
        assertTrue(p.debug());
        AgentConfig s = c.withStateDir(Path.of("/x"));
        assertEquals(Path.of("/x"), s.stateDir());
        assertEquals(c.port(), s.port());
        assertEquals(c.imageDir(), s.imageDir());
        assertEquals(c.bridge(), s.bridge());
        assertEquals(c.portPrefix(), s.portPrefix());
    }
}
