package dev.intervirt.agent.guest;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** How an update command is entered, run and reported: apt status lines become rising progress in a slot. */
class GuestCommandRunnerTest {

    record Sent(double fraction, String output) {
    }

    @Test
    void insideEntersEveryNamespaceOfTheContainerWithItsRoot() {
        assertEquals(List.of("nsenter", "-t", "4242", "-m", "-u", "-i", "-n", "-p", "-r", "-w", "--", "apk", "upgrade"),
                GuestService.inside(4242, List.of("apk", "upgrade")));
    }

    @Test
    void containerEnvironmentIsNonInteractiveAndMinimal() {
        Map<String, String> env = GuestService.containerEnvironment();
        assertEquals("noninteractive", env.get("DEBIAN_FRONTEND"));
        assertEquals("C", env.get("LC_ALL"));
        assertTrue(env.get("PATH").contains("/usr/sbin"));
        assertEquals(5, env.size(), "nothing of the agent's own environment leaks in");
    }

    @Test
    void aptStatusLinesBecomeProgressWithinTheSlot() {
        List<Sent> sent = new ArrayList<>();
        String script = "echo 'Reading package lists...'; for p in 0 50 100; do echo dlstatus:f:$p:Retrieving; sleep 0.15; done;"
                + " for p in 10 60 100; do echo pmstatus:ivdemo:$p:Unpacking ivdemo; sleep 0.15; done";
        String failure = GuestService.runReporting(List.of("sh", "-c", script), Map.of("PATH", "/usr/bin:/bin"), 30,
                new GuestService.Slot((f, o) -> sent.add(new Sent(f, o)), 0.25, 0.5, "Updating c1 (apt, upgrade)"));
        assertNull(failure);
        assertFalse(sent.isEmpty());
        double last = 0;
        for (Sent s : sent) {
            assertTrue(s.fraction() >= 0.25 && s.fraction() <= 0.75, s.toString());
            assertTrue(s.fraction() >= last, "rises: " + sent);
            assertTrue(s.output().startsWith("Updating c1 (apt, upgrade): "), s.output());
            last = s.fraction();
        }
        assertEquals(0.75, last, 1e-9, "pmstatus 100 % is the end of the slot");
        assertTrue(sent.stream().anyMatch(s -> s.output().endsWith("Unpacking ivdemo (60%)")), sent::toString);
    }

    @Test
    void aFailureSaysWhichCommandAndWhy() {
        String failure = GuestService.runReporting(List.of("nsenter", "-t", "1", "--", "sh", "-c", "echo E: no source >&2; exit 100"),
                Map.of("PATH", "/usr/bin:/bin"), 30, new GuestService.Slot((f, o) -> { }, 0, 1, "x"));
        assertNotNull(failure);
        assertTrue(failure.startsWith("sh -c "), "the nsenter prefix is left out: " + failure);
        assertTrue(failure.contains("exited 100: E: no source"), failure);
    }

    @Test
    void aMissingProgramIsAFailureNotACrash() {
        String failure = GuestService.runReporting(List.of("/nonexistent/upgrade"), Map.of(), 30,
                new GuestService.Slot((f, o) -> { }, 0, 1, "x"));
        assertNotNull(failure);
        assertTrue(failure.contains("/nonexistent/upgrade"), failure);
    }
}
