package dev.intervirt.agent.host.netlink;

import com.sun.jna.LastErrorException;
import com.sun.jna.Memory;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * One {@code NETLINK_ROUTE} (or {@code NETLINK_NETFILTER}) socket. It acts in the network namespace of the thread that
 * opened it, for its whole life, whatever thread uses it later. Requests are sent together in
 * one {@code send}; the kernel applies every one even when an earlier one fails (as {@code ip
 * -force -batch}), and the first failure that is not tolerated is thrown once the last is
 * answered. Of several rtnetlink changes only the last asks for an acknowledgement: the kernel
 * answers the others only when they fail, and in order, so the last one's answer ends the
 * exchange (one {@code recv} where each change took one). An nfnetlink batch ({@link NfTables})
 * is applied whole or not at all. Thread-safe (one exchange at a time).
 */
public final class NetlinkSocket implements AutoCloseable {

    private static final int RECEIVE_BUFFER = 64 * 1024;
    private static final int TIMEOUT_SECONDS = 10;
    private static final int NETLINK_CAP_ACK = 10;

    private final Memory receive = new Memory(RECEIVE_BUFFER);
    private Memory send = new Memory(4096);
    private int fd;
    private int sequence = (int) (System.nanoTime() & 0x3fffffff);
    private long receives;
    /** Changes sent together ask for one acknowledgement (see the class comment). */
    private final boolean rtnetlink;

    private NetlinkSocket(int fd, int protocol) {
        this.fd = fd;
        this.rtnetlink = protocol == LibC.NETLINK_ROUTE;
    }

    /** An rtnetlink socket in the calling thread's network namespace. */
    public static NetlinkSocket open() {
        return open(LibC.NETLINK_ROUTE);
    }

    /** An nfnetlink socket (nf_tables' transactions) in the calling thread's network namespace. */
    public static NetlinkSocket openNetfilter() {
        return open(LibC.NETLINK_NETFILTER);
    }

    private static NetlinkSocket open(int protocol) {
        int fd;
        try {
            fd = LibC.INSTANCE.socket(LibC.AF_NETLINK, LibC.SOCK_RAW | LibC.SOCK_CLOEXEC, protocol);
        } catch (LastErrorException e) {
            throw new NetlinkException("socket", e.getErrorCode(), null);
        }
        try {
            Memory address = new Memory(12); // sockaddr_nl: family, pad, pid 0 (kernel assigns), groups 0
            address.clear();
            address.setShort(0, (short) LibC.AF_NETLINK);
            LibC.INSTANCE.bind(fd, address, 12);
            Memory timeout = new Memory(16); // struct timeval
            timeout.setLong(0, TIMEOUT_SECONDS);
            timeout.setLong(8, 0);
            LibC.INSTANCE.setsockopt(fd, LibC.SOL_SOCKET, LibC.SO_RCVTIMEO, timeout, 16);
            Memory one = new Memory(4);
            one.setInt(0, 1);
            optional(fd, LibC.NETLINK_EXT_ACK, one);
            optional(fd, NETLINK_CAP_ACK, one);
        } catch (LastErrorException e) {
            LibC.INSTANCE.close(fd);
            throw new NetlinkException("bind", e.getErrorCode(), null);
        }
        return new NetlinkSocket(fd, protocol);
    }

    /** The kernel's error text and short acks are comforts: older kernels lack them. */
    private static void optional(int fd, int option, Memory value) {
        try {
            LibC.INSTANCE.setsockopt(fd, LibC.SOL_NETLINK, option, value, 4);
        } catch (LastErrorException e) {
            // not supported: plain errno only
        }
    }

    /** Sends the requests in one go and waits for every acknowledgement. */
    public void execute(List<Message> requests) {
        exchange(requests);
    }

    public void execute(Message... requests) {
        exchange(List.of(requests));
    }

    /** The device called {@code name}; "no such device" when there is none. */
    public Link link(String name) {
        for (ByteBuffer m : exchange(List.of(Requests.getLink(name)))) {
            if (type(m) == Rtnl.RTM_NEWLINK) {
                return parseLink(m);
            }
        }
        throw new NetlinkException("link show " + name, NetlinkException.ENODEV, null);
    }

    /** Every route of the family ({@link Requests#IPV4} or {@link Requests#IPV6}), all tables. */
    public List<Route> routes(int family) {
        return dump(Requests.dumpRoutes(family), Rtnl.RTM_NEWROUTE, NetlinkSocket::parseRoute);
    }

    /** Every address of the family. */
    public List<Address> addresses(int family) {
        return dump(Requests.dumpAddresses(family), Rtnl.RTM_NEWADDR, NetlinkSocket::parseAddress);
    }

    /** The replies of {@code type} to a dump request, each parsed. */
    private <T> List<T> dump(Message request, int type, Function<ByteBuffer, T> parse) {
        List<T> found = new ArrayList<>();
        for (ByteBuffer m : exchange(List.of(request))) {
            if (type(m) == type) {
                found.add(parse.apply(m));
            }
        }
        return found;
    }

    public synchronized boolean isOpen() {
        return fd >= 0;
    }

    @Override
    public synchronized void close() {
        if (fd >= 0) {
            try {
                LibC.INSTANCE.close(fd);
            } catch (LastErrorException e) {
                // closed either way
            }
            fd = -1;
        }
    }

    // ------------------------------------------------------------------ exchange

    /** Sends, then reads until every request is acknowledged (or its dump done); returns the data messages. */
    private synchronized List<ByteBuffer> exchange(List<Message> requests) {
        if (fd < 0) {
            // released meanwhile: its container stopped or restarted
            throw new NetlinkException(requests.isEmpty() ? "send" : requests.get(0).description(), NetlinkException.EBADF,
                    "the socket was closed");
        }
        if (requests.isEmpty()) {
            return List.of();
        }
        int total = requests.stream().mapToInt(m -> m.bytes.length).sum();
        if (send.size() < total) {
            send = new Memory(Math.max(total, send.size() * 2));
        }
        int first = nextSequence(requests.size());
        boolean[] silent = rtnetlink ? silentUntilLast(requests) : new boolean[requests.size()];
        int offset = 0;
        for (int i = 0; i < requests.size(); i++) {
            byte[] b = requests.get(i).bytes;
            send.write(offset, b, 0, b.length);
            send.setInt(offset + 8, first + i);
            if (silent[i]) {
                send.setShort(offset + 6, (short) (send.getShort(offset + 6) & ~Rtnl.NLM_F_ACK));
            }
            offset += b.length;
        }
        try {
            LibC.INSTANCE.send(fd, send, total, 0);
        } catch (LastErrorException e) {
            throw new NetlinkException("send", e.getErrorCode(), null);
        }
        boolean[] done = new boolean[requests.size()];
        int pending = 0;
        for (int i = 0; i < requests.size(); i++) {
            if (requests.get(i).answered() && !silent[i]) {
                pending++;
            } else {
                done[i] = true; // a batch marker or a silent change: answered only when refused
            }
        }
        NetlinkException failure = null;
        List<ByteBuffer> data = new ArrayList<>();
        while (pending > 0) {
            long n;
            try {
                n = LibC.INSTANCE.recv(fd, receive, RECEIVE_BUFFER, 0);
                receives++;
            } catch (LastErrorException e) {
                String what = requests.get(0).description();
                throw new NetlinkException(what, e.getErrorCode(), e.getErrorCode() == 11 ? "no answer from the kernel" : null);
            }
            ByteBuffer buf = receive.getByteBuffer(0, n).order(ByteOrder.nativeOrder());
            int pos = 0;
            while (pos + Rtnl.NLMSG_HDRLEN <= n) {
                int len = buf.getInt(pos);
                if (len < Rtnl.NLMSG_HDRLEN || pos + len > n) {
                    break;
                }
                int type = buf.getShort(pos + 4) & 0xffff;
                int flags = buf.getShort(pos + 6) & 0xffff;
                int index = buf.getInt(pos + 8) - first;
                if (index >= 0 && index < done.length && !requests.get(index).answered()) {
                    if (type == Rtnl.NLMSG_ERROR && len >= Rtnl.NLMSG_HDRLEN + 4 && buf.getInt(pos + Rtnl.NLMSG_HDRLEN) != 0) {
                        // The batch as a whole was refused (no permission, or its commit failed):
                        // no further answers need come. Named after its first change.
                        int error = -buf.getInt(pos + Rtnl.NLMSG_HDRLEN);
                        String what = requests.get(Math.min(index + 1, requests.size() - 1)).description();
                        throw new NetlinkException(what, error, extendedMessage(buf, pos, len, flags));
                    }
                } else if (index >= 0 && index < done.length && (silent[index] || !done[index])) {
                    if (type == Rtnl.NLMSG_ERROR || type == Rtnl.NLMSG_DONE) {
                        int error = len >= Rtnl.NLMSG_HDRLEN + 4 ? -buf.getInt(pos + Rtnl.NLMSG_HDRLEN) : 0;
                        Message request = requests.get(index);
                        if (type == Rtnl.NLMSG_ERROR && error > 0 && !request.tolerated.contains(error) && failure == null) {
                            failure = new NetlinkException(request.description(), error, extendedMessage(buf, pos, len, flags));
                        }
                        if (!silent[index]) {
                            done[index] = true; // a silent change's refusal is not the answer awaited
                            pending--;
                        }
                    } else if (type != Rtnl.NLMSG_NOOP) {
                        byte[] copy = new byte[len];
                        buf.get(pos, copy);
                        data.add(ByteBuffer.wrap(copy).order(ByteOrder.nativeOrder()));
                    }
                }
                pos += align(len);
            }
        }
        if (failure != null) {
            throw failure;
        }
        return data;
    }

    /**
     * Which requests are sent without asking for an acknowledgement: every one but the last when
     * all are rtnetlink changes (new, delete, set: no look-ups or dumps, whose answers are data,
     * and no nfnetlink batch, whose markers have rules of their own).
     */
    static boolean[] silentUntilLast(List<Message> requests) {
        boolean[] silent = new boolean[requests.size()];
        for (Message m : requests) {
            if (!m.isRtnetlinkChange()) {
                return silent;
            }
        }
        for (int i = 0; i < silent.length - 1; i++) {
            silent[i] = true;
        }
        return silent;
    }

    /** Acknowledgements and answers read so far (for tests: one per exchange of changes). */
    synchronized long receives() {
        return receives;
    }

    private int nextSequence(int count) {
        int first = sequence;
        sequence += count;
        if (sequence < 0 || sequence > 0x3fffffff) {
            sequence = 1;
        }
        return first;
    }

    /** The kernel's own words ({@code NLMSGERR_ATTR_MSG}), when it sent any. */
    private static String extendedMessage(ByteBuffer buf, int pos, int len, int flags) {
        if ((flags & Rtnl.NLM_F_ACK_TLVS) == 0) {
            return null;
        }
        int original = pos + Rtnl.NLMSG_HDRLEN + 4;
        int attrs = original + ((flags & Rtnl.NLM_F_CAPPED) != 0 ? Rtnl.NLMSG_HDRLEN : align(buf.getInt(original)));
        for (Attributes at = new Attributes(buf, attrs, pos + len); at.next(); ) {
            if (at.type == Rtnl.NLMSGERR_ATTR_MSG) {
                return cString(buf, at.value, at.length);
            }
        }
        return null;
    }

    // ------------------------------------------------------------------ parsing

    static int type(ByteBuffer m) {
        return m.getShort(4) & 0xffff;
    }

    static Route parseRoute(ByteBuffer m) {
        int p = Rtnl.NLMSG_HDRLEN;
        int family = m.get(p) & 0xff;
        int prefix = m.get(p + 1) & 0xff;
        int table = m.get(p + 4) & 0xff;
        int protocol = m.get(p + 5) & 0xff;
        int scope = m.get(p + 6) & 0xff;
        boolean onlink = (m.getInt(p + 8) & Rtnl.RTNH_F_ONLINK) != 0;
        InetAddress dst = null;
        InetAddress gateway = null;
        int oif = 0;
        for (Attributes at = new Attributes(m, p + 12, m.capacity()); at.next(); ) {
            switch (at.type) {
                case Rtnl.RTA_DST -> dst = address(m, at.value, at.length);
                case Rtnl.RTA_GATEWAY -> gateway = address(m, at.value, at.length);
                case Rtnl.RTA_OIF -> oif = m.getInt(at.value);
                case Rtnl.RTA_TABLE -> table = m.getInt(at.value);
                default -> {
                }
            }
        }
        return new Route(family, dst, prefix, oif, gateway, scope, onlink, protocol, table);
    }

    static Address parseAddress(ByteBuffer m) {
        int p = Rtnl.NLMSG_HDRLEN;
        int prefix = m.get(p + 1) & 0xff;
        int scope = m.get(p + 3) & 0xff;
        int index = m.getInt(p + 4);
        InetAddress local = null;
        InetAddress address = null;
        for (Attributes at = new Attributes(m, p + 8, m.capacity()); at.next(); ) {
            if (at.type == Rtnl.IFA_LOCAL) {
                local = address(m, at.value, at.length);
            } else if (at.type == Rtnl.IFA_ADDRESS) {
                address = address(m, at.value, at.length);
            }
        }
        return new Address(local != null ? local : address, prefix, index, scope);
    }

    static Link parseLink(ByteBuffer m) {
        int p = Rtnl.NLMSG_HDRLEN;
        int index = m.getInt(p + 4);
        int flags = m.getInt(p + 8);
        String name = null;
        int master = 0;
        for (Attributes at = new Attributes(m, p + 16, m.capacity()); at.next(); ) {
            if (at.type == Rtnl.IFLA_IFNAME) {
                name = cString(m, at.value, at.length);
            } else if (at.type == Rtnl.IFLA_MASTER) {
                master = m.getInt(at.value);
            }
        }
        return new Link(index, name, flags, master);
    }

    /** A cursor over a message's attributes (length, type, value), up to {@code end} or a malformed one. */
    private static final class Attributes {
        private final ByteBuffer m;
        private final int end;
        private int next;
        /** The current attribute's type, and where and how long its value is. */
        int type;
        int value;
        int length;

        Attributes(ByteBuffer m, int from, int end) {
            this.m = m;
            this.next = from;
            this.end = end;
        }

        /** Moves to the next attribute; false at the end or at one whose length does not fit. */
        boolean next() {
            if (next + 4 > end) {
                return false;
            }
            int alen = m.getShort(next) & 0xffff;
            if (alen < 4 || next + alen > end) {
                return false;
            }
            type = m.getShort(next + 2) & 0x3fff;
            value = next + 4;
            length = alen - 4;
            next += align(alen);
            return true;
        }
    }

    private static InetAddress address(ByteBuffer m, int at, int length) {
        byte[] b = new byte[length];
        m.get(at, b);
        try {
            return InetAddress.getByAddress(b);
        } catch (UnknownHostException e) {
            return null; // not 4 or 16 bytes: not an IP address
        }
    }

    private static String cString(ByteBuffer m, int at, int max) {
        int end = at;
        while (end < at + max && m.get(end) != 0) {
            end++;
        }
        byte[] b = new byte[end - at];
        m.get(at, b);
        return new String(b, StandardCharsets.UTF_8);
    }

    static int align(int length) {
        return (length + 3) & ~3;
    }
}
