package dev.intervirt.agent.guest;

import java.util.Optional;

/**
 * One line of apt's status file descriptor ({@code apt-get -o APT::Status-Fd=1 …}):
 * {@code dlstatus:ITEM:PERCENT:TEXT} while downloading, {@code pmstatus:PACKAGE:PERCENT:TEXT}
 * while dpkg unpacks and configures, {@code pmerror:PACKAGE:PERCENT:TEXT} on a package error.
 * Each percentage is apt's overall figure for its phase.
 *
 * @param kind    {@code dlstatus}, {@code pmstatus} or {@code pmerror}
 * @param item    the package (or download item)
 * @param percent 0–100 within the phase
 * @param text    apt's description, e.g. "Unpacking hello (amd64)"
 */
public record AptStatus(String kind, String item, double percent, String text) {

    /** The status line, or empty for anything else apt prints (ordinary output). */
    public static Optional<AptStatus> parse(String line) {
        if (line == null) {
            return Optional.empty();
        }
        String[] f = line.split(":", 4);
        if (f.length < 4 || !(f[0].equals("dlstatus") || f[0].equals("pmstatus") || f[0].equals("pmerror"))) {
            return Optional.empty();
        }
        double percent;
        try {
            percent = Double.parseDouble(f[2].trim());
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
        if (Double.isNaN(percent)) {
            return Optional.empty();
        }
        return Optional.of(new AptStatus(f[0], f[1], Math.max(0, Math.min(100, percent)), f[3].trim()));
    }

    /** Downloading is the first half of an apt run, dpkg's work the second: 0..1 overall. */
    public double fraction() {
        double half = percent / 200.0;
        return kind.equals("dlstatus") ? half : 0.5 + half;
    }

    public boolean isError() {
        return kind.equals("pmerror");
    }

    /** For the learner: "Unpacking hello (amd64)", or the package when apt gave no text. */
    public String describe() {
        return text.isEmpty() ? item : text;
    }
}
