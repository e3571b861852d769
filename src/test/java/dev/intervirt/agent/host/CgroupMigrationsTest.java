package dev.intervirt.agent.host;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Reading the mount table and the options of the cgroup2 remount (the remount itself: CgroupMigrationsIT). */
class CgroupMigrationsTest {

    /** A hybrid host (this project's build machines): v1 controllers, name=systemd, cgroup2 under unified. */
    static final List<String> HYBRID = List.of(
            "35 24 0:30 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755",
            "36 35 0:31 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:10 - cgroup2 cgroup2 rw,nsdelegate",
            "37 35 0:32 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:11 - cgroup cgroup rw,xattr,name=systemd",
            "40 35 0:35 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:14 - cgroup cgroup rw,memory");
    /** Debian 12's systemd: only cgroup2, at /sys/fs/cgroup, no optional fields. */
    static final List<String> UNIFIED = List.of(
            "25 30 0:23 / /sys rw,nosuid,nodev,noexec,relatime - sysfs sysfs rw",
            "26 25 0:24 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot");

    @Test
    void theCgroup2MountIsFoundWhereverItIsMounted() {
        MountTable.Entry hybrid = CgroupMigrations.cgroup2(MountTable.parse(HYBRID)).orElseThrow();
        assertEquals("/sys/fs/cgroup/unified", hybrid.mountPoint());
        assertEquals("cgroup2", hybrid.source());
        assertEquals(List.of("rw", "nsdelegate"), hybrid.superOptions());
        assertEquals("/sys/fs/cgroup", CgroupMigrations.cgroup2(MountTable.parse(UNIFIED)).orElseThrow().mountPoint());
        assertTrue(CgroupMigrations.cgroup2(MountTable.parse(List.of(HYBRID.get(2), HYBRID.get(3)))).isEmpty(),
                "a v1-only host has nothing to remount");
    }

    @Test
    void theRemountKeepsEveryOptionTheHierarchyHas() {
        // A remount sets all flags of the hierarchy: one left out would be switched off.
        assertEquals("nsdelegate,memory_recursiveprot,favordynmods",
                CgroupMigrations.remountOptions(List.of("rw", "nsdelegate", "memory_recursiveprot")));
        assertEquals("favordynmods", CgroupMigrations.remountOptions(List.of("rw")));
        assertEquals("favordynmods", CgroupMigrations.remountOptions(List.of("ro", "")));
    }

    @Test
    void pathsAreUnescapedAsTheKernelEscapesThem() {
        List<MountTable.Entry> m = MountTable.parse(List.of(
                "90 26 0:50 / /var/lib/intervirt/a\\040b rw,relatime shared:40 master:1 - overlay overlay rw,lowerdir=/x",
                "not a mountinfo line"));
        assertEquals(1, m.size());
        assertEquals("/var/lib/intervirt/a b", m.get(0).mountPoint());
        assertEquals("overlay", m.get(0).type());
    }
}
