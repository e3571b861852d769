package dev.intervirt.agent.e2e;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class GuestMemoryTest {

    @Test
    void nodesAreSummedAndCacheIsHeadroom() {
        String meminfo = """
                Node 0 MemTotal:        2000000 kB
                Node 0 MemFree:          500000 kB
                Node 0 MemUsed:         1500000 kB
                Node 0 FilePages:        600000 kB
                Node 0 Shmem:             50000 kB
                Node 0 SReclaimable:     100000 kB
                Node 1 MemTotal:          48000 kB
                Node 1 MemFree:           12000 kB
                """;
        GuestMemory m = GuestMemory.parse(meminfo);
        assertEquals(2000, m.totalMiB());
        assertEquals(500, m.freeMiB());
        assertEquals(683, m.cacheMiB());
        assertEquals(48, m.shmemMiB());
        assertEquals(2000 - 500 - 683 + 48, m.usedMiB());
        assertEquals(500 + 683 - 48, m.headroomMiB());
    }

    @Test
    void somethingElseIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> GuestMemory.parse("cat: no such file"));
    }
}
