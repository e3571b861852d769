package dev.intervirt.agent.host;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The remount on the real host: afterwards the cgroup2 hierarchy has favordynmods and still every
 * option it had (nsdelegate …), a second call changes nothing, and processes still move between
 * cgroups (how much faster: the benchmark's Add+Start rows).
 */
class CgroupMigrationsIT {

    @Test
    void theHierarchyGainsTheOptionAndKeepsTheOthers() throws Exception {
        MountTable.Entry before = CgroupMigrations.cgroup2(MountTable.read()).orElseThrow();

        CgroupMigrations.favorMoves();

        MountTable.Entry after = CgroupMigrations.cgroup2(MountTable.read()).orElseThrow();
        assertTrue(after.superOptions().contains("favordynmods"), "options now: " + after.superOptions());
        assertTrue(after.superOptions().containsAll(before.superOptions()),
                "lost an option: before " + before.superOptions() + ", after " + after.superOptions());
        assertTrue(CgroupMigrations.favorMoves().contains("already has"), "a second call remounts again");
        assertEquals(after, CgroupMigrations.cgroup2(MountTable.read()).orElseThrow());
    }

    @Test
    void processesStillMoveBetweenCgroups() throws Exception {
        CgroupMigrations.favorMoves();
        Path hierarchy = Path.of(CgroupMigrations.cgroup2(MountTable.read()).orElseThrow().mountPoint());
        Process sleeper = new ProcessBuilder("sleep", "60").start();
        Path group = hierarchy.resolve("ivtest-cgmoves-" + ProcessHandle.current().pid());
        try {
            String pid = Long.toString(sleeper.pid());
            String home = unifiedPath(sleeper.pid());
            Files.createDirectories(group);
            for (int i = 0; i < 20; i++) {
                Files.writeString(group.resolve("cgroup.procs"), pid);
                assertEquals("/" + group.getFileName(), unifiedPath(sleeper.pid()));
                Files.writeString(hierarchy.resolve(home.substring(1)).resolve("cgroup.procs"), pid);
                assertEquals(home, unifiedPath(sleeper.pid()));
            }
        } finally {
            sleeper.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            if (Files.isDirectory(group)) {
                Files.delete(group);
            }
        }
    }

    /** The process's path in the cgroup2 hierarchy (the "0::" line). */
    private static String unifiedPath(long pid) throws Exception {
        List<String> lines = Files.readAllLines(Path.of("/proc", Long.toString(pid), "cgroup"));
        return lines.stream().filter(l -> l.startsWith("0::")).findFirst().orElseThrow().substring(3);
    }
}
