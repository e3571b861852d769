package dev.intervirt.agent.value;

import java.util.regex.Pattern;

/** Rules for container ids: the client's {@code computer-<n>} and anything alike. */
public final class ContainerId {

    private static final Pattern VALID = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.-]{0,62}");

    private ContainerId() {
    }

    /** At most 63 characters of {@code [A-Za-z0-9_.-]}, not starting with a dot or dash. */
    public static boolean isValid(String id) {
        return id != null && VALID.matcher(id).matches();
    }
}
