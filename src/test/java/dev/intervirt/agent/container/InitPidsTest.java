package dev.intervirt.agent.container;

import dev.intervirt.agent.host.netlink.NamespaceSockets;
import dev.intervirt.agent.state.ContainerRecord;
import dev.intervirt.agent.support.FakeHost;
import dev.intervirt.agent.value.ImageName;
import dev.intervirt.agent.value.MacAddress;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.TimeUnit;

import static dev.intervirt.agent.support.TestAddresses.ipv4;
import static dev.intervirt.agent.support.TestAddresses.ipv6;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class InitPidsTest {

    private final FakeHost.FakeHypervisor hypervisor = new FakeHost.FakeHypervisor();
    private final FakeHost.FakeNetns netns = new FakeHost.FakeNetns();
    private final InitPids pids = new InitPids(hypervisor, netns);
    private final ContainerRecord c = new ContainerRecord("c1", "ivc1", MacAddress.parseLoose("0a:00:00:00:00:01"),
            ipv4("10.0.0.1"), ipv6("fd00::1"), false, new ImageName("debian", "13"), true);
    private Process init;

    @AfterEach
    void stop() {
        if (init != null) {
            init.destroyForcibly();
        }
    }

    @Test
    void anInitThatExitedIsNoticedAtOnceByOfAndASecondLaterByOfRecent() throws Exception {
        init = new ProcessBuilder("sleep", "60").start();
        int pid = (int) init.pid();
        long started = System.nanoTime();
        pids.started(c.id(), pid); // the domain itself is "shut off" in the fake: nobody tells the agent
        assertEquals(OptionalInt.of(pid), pids.of(c), "alive: the cached pid");
        init.destroy();
        assertTrue(init.waitFor(5, TimeUnit.SECONDS));
        if (System.nanoTime() - started < NamespaceSockets.TRUSTED_NANOS / 2) {
            assertEquals(OptionalInt.of(pid), pids.ofRecent(c), "seen alive less than a second ago: taken as it is");
        }
        Thread.sleep(TimeUnit.NANOSECONDS.toMillis(NamespaceSockets.TRUSTED_NANOS) + 100);
        assertEquals(OptionalInt.empty(), pids.ofRecent(c), "a second later: looked at, gone, and libvirt says stopped");
        assertEquals(List.of(pid), netns.released, "its namespace's socket let go");
        assertEquals(OptionalInt.empty(), pids.cached(c.id()));
    }

    @Test
    void ofLooksEveryTime() throws Exception {
        init = new ProcessBuilder("sleep", "60").start();
        int pid = (int) init.pid();
        pids.started(c.id(), pid);
        init.destroy();
        assertTrue(init.waitFor(5, TimeUnit.SECONDS));
        assertEquals(OptionalInt.empty(), pids.of(c), "gone and stopped, however recent the last look");
        assertEquals(List.of(pid), netns.released);
    }
}
