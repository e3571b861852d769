package dev.intervirt.agent.host.netlink;

import dev.intervirt.agent.host.CommandFailedException;

import java.util.List;

/**
 * The kernel refused a netlink request (or the socket failed): the errno, said plainly. A host
 * failure like a failed {@code ip} command, so it reaches the client the same way (code 5 with
 * this text); it is never a protocol error by itself.
 */
public class NetlinkException extends CommandFailedException {

    public static final int ENOENT = 2;
    public static final int ESRCH = 3;
    public static final int EBADF = 9;
    public static final int EEXIST = 17;
    public static final int ENODEV = 19;
    public static final int EINVAL = 22;
    public static final int ENETUNREACH = 101;
    public static final int EADDRNOTAVAIL = 99;

    private final int errno;

    public NetlinkException(String operation, int errno, String kernelMessage) {
        super(List.of("netlink", operation), -1, describe(errno)
                + (kernelMessage == null || kernelMessage.isBlank() ? "" : " (" + kernelMessage.strip() + ")"));
        this.errno = errno;
    }

    public int errno() {
        return errno;
    }

    /** A clear word for the errors routes and addresses meet; libc's text for the rest. */
    static String describe(int errno) {
        return switch (errno) {
            case ENODEV -> "no such device";
            case EEXIST -> "exists";
            case ESRCH -> "no such route";
            case ENOENT -> "no such entry";
            case EADDRNOTAVAIL -> "no such address";
            case ENETUNREACH -> "network unreachable (the gateway is not on a link)";
            case EINVAL -> "invalid argument";
            case 1 -> "operation not permitted";
            default -> {
                String text;
                try {
                    text = LibC.INSTANCE.strerror(errno);
                } catch (RuntimeException | UnsatisfiedLinkError e) {
                    text = null;
                }
                yield (text == null ? "error" : text.toLowerCase(java.util.Locale.ROOT)) + " (errno " + errno + ")";
            }
        };
    }
}
