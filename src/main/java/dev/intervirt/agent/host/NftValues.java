package dev.intervirt.agent.host;

import dev.intervirt.agent.value.MacAddress;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * The only way values get into an nft script or an {@code ip} command line: every method
 * checks its input and returns a text that cannot change the meaning of the script around it
 * (no quotes, spaces, braces, semicolons, newlines or path separators). Addresses come from
 * typed values formatted by the JDK, never from client text.
 */
final class NftValues {

    /** Linux interface names as the agent uses them (IFNAMSIZ - 1 = 15 characters). */
    private static final Pattern IFNAME = Pattern.compile("[A-Za-z0-9_.-]{1,15}");
    /** nft table names of the agent; keep it to an identifier nft never mistakes for a keyword prefix. */
    private static final Pattern TABLE = Pattern.compile("[a-z][a-z0-9_]{0,31}");
    private static final Pattern IPV4_TEXT = Pattern.compile("[0-9]{1,3}(\\.[0-9]{1,3}){3}");
    private static final Pattern IPV6_TEXT = Pattern.compile("[0-9a-f:]{2,39}");

    private NftValues() {
    }

    /** An interface (port or bridge) name; "." and ".." are refused as Linux does. */
    static String ifname(String name) {
        if (name == null || !IFNAME.matcher(name).matches() || name.equals(".") || name.equals("..")) {
            throw new IllegalArgumentException("not a valid interface name (expected [A-Za-z0-9_.-]{1,15}): "
                    + (name == null ? "null" : '"' + name.replaceAll("[^\\x20-\\x7e]", "?") + '"'));
        }
        return name;
    }

    /** An interface name as an nft string literal. */
    static String quotedIfname(String name) {
        return '"' + ifname(name) + '"';
    }

    /** A table name base, e.g. {@code intervirt} or {@code ivtest}. */
    static String table(String base) {
        if (base == null || !TABLE.matcher(base).matches()) {
            throw new IllegalArgumentException("not a valid table name (expected [a-z][a-z0-9_]{0,31}): " + base);
        }
        return base;
    }

    static String ipv4(Inet4Address address) {
        Objects.requireNonNull(address, "IPv4 address");
        String text = address.getHostAddress();
        if (!IPV4_TEXT.matcher(text).matches()) {
            throw new IllegalArgumentException("unexpected IPv4 text: " + text);
        }
        return text;
    }

    /** The JDK's text form without any {@code %scope} suffix. */
    static String ipv6(Inet6Address address) {
        Objects.requireNonNull(address, "IPv6 address");
        String text = address.getHostAddress();
        int scope = text.indexOf('%');
        if (scope >= 0) {
            text = text.substring(0, scope);
        }
        if (!IPV6_TEXT.matcher(text).matches()) {
            throw new IllegalArgumentException("unexpected IPv6 text: " + text);
        }
        return text;
    }

    static String mac(MacAddress mac) {
        Objects.requireNonNull(mac, "MAC address");
        return mac.canonical(); // the record only ever holds aa:bb:cc:dd:ee:ff
    }

    // ---- the same values as nf_tables keys (what nft itself sends; concatenations pad each field to 4 bytes)

    /** An interface name as an {@code ifname} key: the name, zero-padded to IFNAMSIZ (16) bytes. */
    static byte[] ifnameKey(String name) {
        return Arrays.copyOf(ifname(name).getBytes(StandardCharsets.US_ASCII), 16);
    }

    /** A MAC address as an {@code ether_addr} field of a concatenation: 6 bytes padded to 8. */
    static byte[] macKey(MacAddress mac) {
        return Arrays.copyOf(Objects.requireNonNull(mac, "MAC address").bytes(), 8);
    }

    /** An address in network byte order (4 or 16 bytes). */
    static byte[] addressKey(InetAddress address) {
        return Objects.requireNonNull(address, "address").getAddress();
    }

    /** The fields of a concatenated key ({@code a . b}), one after the other. */
    static byte[] concat(byte[]... fields) {
        int length = 0;
        for (byte[] f : fields) {
            length += f.length;
        }
        byte[] key = new byte[length];
        int at = 0;
        for (byte[] f : fields) {
            System.arraycopy(f, 0, key, at, f.length);
            at += f.length;
        }
        return key;
    }

    /** A TCP/UDP port number 1..65535. */
    static int port(int port, String what) {
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException(what + " out of range 1..65535: " + port);
        }
        return port;
    }
}
