package dev.intervirt.agent.value;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.regex.Pattern;

/**
 * Parses and checks container addresses. Only literal addresses are accepted (never a name
 * lookup), and only unicast host addresses a container can carry.
 */
public final class IpAddresses {

    private static final Pattern DOTTED_QUAD =
            Pattern.compile("(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}");
    /** Starts with a hex digit or ':', so InetAddress treats it as a literal and never looks it up. */
    private static final Pattern IPV6_CHARS = Pattern.compile("[0-9A-Fa-f:][0-9A-Fa-f:.]{1,44}");

    private IpAddresses() {
    }

    /** A rejected address with the reason, for a message the learner can act on. */
    public static final class InvalidAddressException extends Exception {
        public InvalidAddressException(String reason) {
            super(reason);
        }
    }

    public static Inet4Address parseIpv4(String text) throws InvalidAddressException {
        if (text == null || !DOTTED_QUAD.matcher(text).matches()) {
            throw new InvalidAddressException("is not an IPv4 address like 192.168.0.145");
        }
        Inet4Address a = (Inet4Address) literal(text);
        byte[] b = a.getAddress();
        int first = b[0] & 0xff;
        int second = b[1] & 0xff;
        if (first == 0) {
            throw new InvalidAddressException("is in 0.0.0.0/8, which is not a host address");
        }
        if (first == 127) {
            throw new InvalidAddressException("is a loopback address");
        }
        if (first == 169 && second == 254) {
            throw new InvalidAddressException("is link-local (169.254.0.0/16 is the agent's gateway range)");
        }
        if (first >= 224) {
            throw new InvalidAddressException(first < 240 ? "is a multicast address" : "is a reserved or broadcast address");
        }
        return a;
    }

    public static Inet6Address parseIpv6(String text) throws InvalidAddressException {
        if (text == null || !text.contains(":") || !IPV6_CHARS.matcher(text).matches()) {
            throw new InvalidAddressException("is not an IPv6 address like fd00:3452:2312:ab32::bcda");
        }
        InetAddress parsed = literal(text);
        if (!(parsed instanceof Inet6Address a)) {
            throw new InvalidAddressException("is an IPv4-mapped address; give an IPv6 address");
        }
        byte[] b = a.getAddress();
        if (a.isAnyLocalAddress()) {
            throw new InvalidAddressException("is the unspecified address ::");
        }
        if (a.isLoopbackAddress()) {
            throw new InvalidAddressException("is the loopback address ::1");
        }
        if ((b[0] & 0xff) == 0xff) {
            throw new InvalidAddressException("is a multicast address (ff00::/8)");
        }
        if ((b[0] & 0xff) == 0xfe && (b[1] & 0xc0) == 0x80) {
            throw new InvalidAddressException("is link-local (fe80::/10); the kernel assigns those itself");
        }
        if (isV4Mapped(b)) {
            throw new InvalidAddressException("is an IPv4-mapped address; give an IPv6 address");
        }
        return a;
    }

    /** The canonical text form, without scope. */
    public static String format(InetAddress a) {
        String s = a.getHostAddress();
        int pct = s.indexOf('%');
        return pct < 0 ? s : s.substring(0, pct);
    }

    private static boolean isV4Mapped(byte[] b) {
        for (int i = 0; i < 10; i++) {
            if (b[i] != 0) {
                return false;
            }
        }
        return (b[10] & 0xff) == 0xff && (b[11] & 0xff) == 0xff;
    }

    private static InetAddress literal(String text) throws InvalidAddressException {
        try {
            // Only literals reach here (checked by the patterns above), so no name lookup happens.
            return InetAddress.getByName(text);
        } catch (UnknownHostException e) {
            throw new InvalidAddressException("is not a valid address");
        }
    }
}
