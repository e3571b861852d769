package dev.intervirt.agent.host;

/**
 * The host could not do what the agent asked of it: libvirt, the kernel, a file system or a host
 * command. Host adapters say what kind of failure it was and why, in words a learner can act on;
 * they do not speak the protocol: the dispatcher turns the kind into the reply's code, in one
 * place ({@code dispatch.HostFailures}).
 */
public class HostException extends RuntimeException {

    /** What went wrong, as far as the caller can do something about it. */
    public enum Kind {
        /** The host cannot do it now: libvirt unreachable, a container's namespace gone, a directory not writable. */
        UNAVAILABLE,
        /** The host object asked for does not exist (libvirt has no such domain). */
        MISSING,
        /** A host command or kernel operation ran and refused (nft, ip, mount, a netlink request). */
        FAILED
    }

    private final Kind kind;

    public HostException(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    public HostException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }

    public static HostException unavailable(String message, Throwable cause) {
        return new HostException(Kind.UNAVAILABLE, message, cause);
    }

    public static HostException unavailable(String message) {
        return new HostException(Kind.UNAVAILABLE, message);
    }

    public static HostException missing(String message) {
        return new HostException(Kind.MISSING, message);
    }

    public static HostException failed(String message) {
        return new HostException(Kind.FAILED, message);
    }

    public static HostException failed(String message, Throwable cause) {
        return new HostException(Kind.FAILED, message, cause);
    }
}
