package dev.intervirt.agent.value;

import java.util.Locale;

/** Transport protocol of a port forwarding. */
public enum Protocol {
    TCP, UDP;

    /** The lower-case name used on the wire and by nftables. */
    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Null when the text is not a known protocol (matching is case-insensitive). */
    public static Protocol parse(String text) {
        if (text == null) {
            return null;
        }
        for (Protocol p : values()) {
            if (p.wireName().equalsIgnoreCase(text)) {
                return p;
            }
        }
        return null;
    }
}
