package dev.intervirt.agent.value;

import java.util.HexFormat;
import java.util.Locale;
import java.util.regex.Pattern;

/** A unicast Ethernet address in canonical form {@code aa:bb:cc:dd:ee:ff}. */
public record MacAddress(String canonical) {

    private static final Pattern LOOSE = Pattern.compile("[0-9A-Fa-f]{1,2}(:[0-9A-Fa-f]{1,2}){5}");

    public MacAddress {
        if (!canonical.matches("[0-9a-f]{2}(:[0-9a-f]{2}){5}")) {
            throw new IllegalArgumentException("not a canonical MAC: " + canonical);
        }
    }

    /**
     * Parses the client's form (octets may be unpadded, any case). Returns null when the text
     * is not six hex octets separated by colons.
     */
    public static MacAddress parseLoose(String text) {
        if (text == null || !LOOSE.matcher(text).matches()) {
            return null;
        }
        String[] parts = text.toLowerCase(Locale.ROOT).split(":");
        StringBuilder sb = new StringBuilder(17);
        for (String p : parts) {
            if (sb.length() > 0) {
                sb.append(':');
            }
            sb.append(p.length() == 1 ? "0" + p : p);
        }
        return new MacAddress(sb.toString());
    }

    public byte[] bytes() {
        return HexFormat.ofDelimiter(":").parseHex(canonical);
    }

    public boolean isZero() {
        return canonical.equals("00:00:00:00:00:00");
    }

    /** The group (multicast) bit: the least significant bit of the first octet. */
    public boolean isGroup() {
        return (bytes()[0] & 1) != 0;
    }

    /** The same address with the group bit cleared, usable on a NIC. */
    public MacAddress withGroupBitCleared() {
        byte[] b = bytes();
        b[0] = (byte) (b[0] & ~1);
        return new MacAddress(HexFormat.ofDelimiter(":").formatHex(b));
    }

    @Override
    public String toString() {
        return canonical;
    }
}
