package dev.intervirt.agent.host.netlink;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Set;
import java.util.function.Supplier;

/**
 * One netlink request as bytes: the 16-byte {@code nlmsghdr}, the family header
 * ({@code rtmsg}, {@code ifaddrmsg}, {@code ifinfomsg} or nfnetlink's {@code nfgenmsg}) and
 * 4-byte aligned attributes, in the machine's byte order. The sequence number is filled in when
 * the message is sent. {@code tolerated} errnos count as success (e.g. "no such route" when
 * deleting).
 */
public final class Message {

    /** Marks an attribute whose value is attributes itself. */
    static final int NLA_F_NESTED = 0x8000;

    final byte[] bytes;
    /** Made only when a failure or a debug line needs it: most messages are never described. */
    private final Supplier<String> description;
    final Set<Integer> tolerated;
    private final boolean answered;

    private Message(byte[] bytes, Supplier<String> description, Set<Integer> tolerated) {
        this.bytes = bytes;
        this.description = description;
        this.tolerated = tolerated;
        int flags = ByteBuffer.wrap(bytes).order(ByteOrder.nativeOrder()).getShort(6) & 0xffff;
        this.answered = (flags & (Rtnl.NLM_F_ACK | Rtnl.NLM_F_DUMP)) != 0;
    }

    /** The same request, with these errnos taken as success. */
    public Message tolerating(Integer... errnos) {
        return new Message(bytes, description, Set.of(errnos));
    }

    public String description() {
        return description.get();
    }

    int type() {
        return ByteBuffer.wrap(bytes).order(ByteOrder.nativeOrder()).getShort(4) & 0xffff;
    }

    /**
     * An rtnetlink change that asks for an acknowledgement: a new, delete or set of a link,
     * address or route (rtnetlink's types run in fours from 16: new, delete, get, set).
     */
    boolean isRtnetlinkChange() {
        int type = type();
        int flags = ByteBuffer.wrap(bytes).order(ByteOrder.nativeOrder()).getShort(6) & 0xffff;
        return type >= Rtnl.RTM_NEWLINK && type < 0x100 && (type - Rtnl.RTM_NEWLINK) % 4 != 2
                && (flags & Rtnl.NLM_F_ACK) != 0;
    }

    /**
     * Whether the kernel answers it (an acknowledgement, or a dump ending in done). The
     * begin and end markers of an nfnetlink batch do not ask for one.
     */
    boolean answered() {
        return answered;
    }

    /** Builds one message; {@link #build} writes its length. */
    static final class Builder {
        private final ByteBuffer b;

        Builder(int type, int flags) {
            this(type, flags, 256);
        }

        Builder(int type, int flags, int capacity) {
            b = ByteBuffer.allocate(capacity).order(ByteOrder.nativeOrder());
            b.putInt(0).putShort((short) type).putShort((short) flags).putInt(0).putInt(0);
        }

        Builder u8(int v) {
            b.put((byte) v);
            return this;
        }

        Builder u16(int v) {
            b.putShort((short) v);
            return this;
        }

        /** In network byte order (nfnetlink's resource id). */
        Builder u16BigEndian(int v) {
            b.put((byte) (v >>> 8)).put((byte) v);
            return this;
        }

        Builder u32(int v) {
            b.putInt(v);
            return this;
        }

        Builder attr(int type, byte[] value) {
            int len = 4 + value.length;
            b.putShort((short) len).putShort((short) type).put(value);
            pad();
            return this;
        }

        Builder attrU32(int type, int value) {
            b.putShort((short) 8).putShort((short) type).putInt(value);
            return this;
        }

        Builder attrString(int type, String value) {
            byte[] s = value.getBytes(StandardCharsets.US_ASCII);
            return attr(type, Arrays.copyOf(s, s.length + 1));
        }

        /** Opens a nested attribute; {@link #end} closes it. Returns where it starts. */
        int begin(int type) {
            int start = b.position();
            b.putShort((short) 0).putShort((short) (type | NLA_F_NESTED));
            return start;
        }

        /** Closes the nested attribute opened at {@code start}: writes its length. */
        Builder end(int start) {
            b.putShort(start, (short) (b.position() - start));
            return this;
        }

        private void pad() {
            while (b.position() % 4 != 0) {
                b.put((byte) 0);
            }
        }

        Message build(String description) {
            return build(() -> description);
        }

        /** With a description made only if it is asked for. */
        Message build(Supplier<String> description) {
            pad();
            b.putInt(0, b.position());
            return new Message(Arrays.copyOf(b.array(), b.position()), description, Set.of());
        }
    }

    static int family(InetAddress a) {
        return a instanceof Inet4Address ? Rtnl.AF_INET : Rtnl.AF_INET6;
    }

    static int hostPrefix(InetAddress a) {
        return a instanceof Inet4Address ? 32 : 128;
    }
}
