package dev.intervirt.agent.host;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The mounts of the agent's mount namespace, as {@code /proc/self/mountinfo} lists them. */
public final class MountTable {

    private static final Path MOUNTINFO = Path.of("/proc/self/mountinfo");

    /** One mount: where, what file system, from what source, with which file system (super block) options. */
    public record Entry(String mountPoint, String type, String source, List<String> superOptions) {
    }

    private MountTable() {
    }

    /** @throws IOException when the table cannot be read */
    public static List<Entry> read() throws IOException {
        return parse(Files.readAllLines(MOUNTINFO));
    }

    /** Lines of mountinfo: {@code id parent dev root MOUNTPOINT options [optional...] - TYPE SOURCE SUPEROPTIONS}. */
    static List<Entry> parse(List<String> lines) {
        List<Entry> out = new ArrayList<>(lines.size());
        for (String line : lines) {
            int dash = line.indexOf(" - ");
            if (dash < 0) {
                continue;
            }
            String[] left = line.substring(0, dash).split(" ");
            String[] right = line.substring(dash + 3).split(" ");
            if (left.length < 5 || right.length < 3) {
                continue;
            }
            out.add(new Entry(unescape(left[4]), right[0], unescape(right[1]), List.of(right[2].split(","))));
        }
        return out;
    }

    /** The kernel writes space, tab, newline and backslash in paths as octal escapes. */
    static String unescape(String s) {
        return s.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n").replace("\\134", "\\");
    }
}
