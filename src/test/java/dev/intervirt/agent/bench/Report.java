package dev.intervirt.agent.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The benchmark's output: markdown sections (target/bench/report.md), every measurement
 * (measurements.csv) and one row per target (summary.csv: metric,value,unit,target,met).
 * Written after every section, so an interrupted run still leaves what it measured.
 */
final class Report {

    private final Path dir;
    private final Map<String, StringBuilder> sections = new LinkedHashMap<>();
    private final List<String> measurements = new ArrayList<>(List.of("section,n,metric,samples,p50_ms,p99_ms,max_ms"));
    private final List<String> summary = new ArrayList<>(List.of("metric,value,unit,target,met"));
    private final List<String> notes = new ArrayList<>();
    private final String header;

    Report(Path dir, String header) {
        this.dir = dir;
        this.header = header;
    }

    StringBuilder section(String title) {
        return sections.computeIfAbsent(title, t -> new StringBuilder());
    }

    /** A table header in a section, once. */
    void table(String title, String intro, String... columns) {
        StringBuilder s = section(title);
        if (s.length() == 0) {
            if (intro != null && !intro.isEmpty()) {
                s.append(intro).append("\n\n");
            }
            s.append("| ").append(String.join(" | ", columns)).append(" |\n|");
            s.append("---|".repeat(columns.length)).append('\n');
        }
    }

    void row(String title, Object... cells) {
        StringBuilder s = section(title);
        s.append('|');
        for (Object c : cells) {
            s.append(' ').append(c instanceof Double d ? fmt(d) : String.valueOf(c)).append(" |");
        }
        s.append('\n');
    }

    void measurement(String section, int n, String metric, Samples s) {
        measurements.add(String.format(Locale.ROOT, "%s,%d,%s,%d,%.3f,%.3f,%.3f", csv(section), n, csv(metric), s.count(), s.p50(),
                s.p99(), s.max()));
    }

    void measurement(String section, int n, String metric, double ms) {
        measurements.add(String.format(Locale.ROOT, "%s,%d,%s,1,%.3f,,", csv(section), n, csv(metric), ms));
    }

    /** One target row: met is "yes" or "no" ("n/a" when it could not be measured). */
    void target(String metric, double value, String unit, String target, Boolean met) {
        summary.add(csv(metric) + "," + (Double.isNaN(value) ? "" : fmt(value)) + "," + unit + "," + csv(target) + ","
                + (met == null ? "n/a" : met ? "yes" : "no"));
    }

    void note(String text) {
        notes.add(text);
    }

    void write() throws IOException {
        Files.createDirectories(dir);
        StringBuilder md = new StringBuilder(header);
        md.append("\n## Targets\n\n| metric | value | unit | target | met |\n|---|---|---|---|---|\n");
        for (String line : summary.subList(1, summary.size())) {
            md.append("| ").append(String.join(" | ", splitCsv(line))).append(" |\n");
        }
        for (Map.Entry<String, StringBuilder> e : sections.entrySet()) {
            md.append("\n## ").append(e.getKey()).append("\n\n").append(e.getValue());
        }
        if (!notes.isEmpty()) {
            md.append("\n## Notes\n\n");
            for (String n : notes) {
                md.append("- ").append(n).append('\n');
            }
        }
        Files.writeString(dir.resolve("report.md"), md.toString());
        Files.writeString(dir.resolve("summary.csv"), String.join("\n", summary) + "\n");
        Files.writeString(dir.resolve("measurements.csv"), String.join("\n", measurements) + "\n");
    }

    static String fmt(double v) {
        if (Double.isNaN(v)) {
            return "–";
        }
        double a = Math.abs(v);
        return String.format(Locale.ROOT, a >= 100 ? "%.0f" : a >= 10 ? "%.1f" : a >= 1 ? "%.2f" : "%.3f", v);
    }

    private static String csv(String s) {
        return s.contains(",") || s.contains("\"") ? '"' + s.replace("\"", "\"\"") + '"' : s;
    }

    private static List<String> splitCsv(String line) {
        List<String> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < line.length(); i++) {
            char ch = line.charAt(i);
            if (ch == '"') {
                if (quoted && i + 1 < line.length() && line.charAt(i + 1) == '"') {
                    cur.append('"');
                    i++;
                } else {
                    quoted = !quoted;
                }
            } else if (ch == ',' && !quoted) {
                out.add(cur.toString());
                cur.setLength(0);
            } else {
                cur.append(ch);
            }
        }
        out.add(cur.toString());
        return out;
    }
}
