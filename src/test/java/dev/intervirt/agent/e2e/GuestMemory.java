package dev.intervirt.agent.e2e;

import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The guest's memory from its kernel's per-node account ({@code /sys/devices/system/node/nodeN/meminfo},
 * summed over nodes): used by processes and the kernel, page cache, and what is left (free + the
 * cache the kernel can drop), in MiB.
 */
record GuestMemory(long totalMiB, long freeMiB, long cacheMiB, long shmemMiB) {

    private static final Pattern LINE = Pattern.compile("Node \\d+ (\\w+):\\s+(\\d+) kB");

    static GuestMemory parse(String nodeMeminfo) {
        Map<String, Long> kb = new HashMap<>();
        Matcher m = LINE.matcher(nodeMeminfo);
        while (m.find()) {
            kb.merge(m.group(1), Long.parseLong(m.group(2)), Long::sum);
        }
        if (!kb.containsKey("MemTotal") || !kb.containsKey("MemFree")) {
            throw new IllegalArgumentException("no node meminfo in: " + nodeMeminfo);
        }
        long cache = kb.getOrDefault("FilePages", 0L) + kb.getOrDefault("SReclaimable", 0L);
        return new GuestMemory(kb.get("MemTotal") / 1024, kb.get("MemFree") / 1024, cache / 1024,
                kb.getOrDefault("Shmem", 0L) / 1024);
    }

    /** Used without the droppable cache (shared memory counts as used: it cannot be dropped). */
    long usedMiB() {
        return totalMiB - freeMiB - cacheMiB + shmemMiB;
    }

    long headroomMiB() {
        return totalMiB - usedMiB();
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "%d MiB used of %d (page cache %d MiB, shmem %d MiB): headroom %d MiB",
                usedMiB(), totalMiB, cacheMiB, shmemMiB, headroomMiB());
    }
}
