package dev.intervirt.agent.value;

import java.util.regex.Pattern;

/** An image as the LXC/Incus image server names it: {@code distribution/release}. */
public record ImageName(String distribution, String release) {

    private static final Pattern PART = Pattern.compile("[a-z0-9][a-z0-9._-]{0,31}");

    public ImageName {
        if (!PART.matcher(distribution).matches() || !PART.matcher(release).matches()
                || release.contains("..") || distribution.contains("..")) {
            throw new IllegalArgumentException("invalid image name " + distribution + "/" + release);
        }
    }

    /** Null unless the text is {@code distribution/release} of lower-case letters, digits, '.', '_', '-'. */
    public static ImageName parse(String text) {
        if (text == null) {
            return null;
        }
        int slash = text.indexOf('/');
        if (slash < 0 || slash != text.lastIndexOf('/')) {
            return null;
        }
        String d = text.substring(0, slash);
        String r = text.substring(slash + 1);
        if (!PART.matcher(d).matches() || !PART.matcher(r).matches() || d.contains("..") || r.contains("..")) {
            return null;
        }
        return new ImageName(d, r);
    }

    @Override
    public String toString() {
        return distribution + "/" + release;
    }
}
