package dev.intervirt.agent.protocol;

/** Intervirt's error codes, as in the spec's table. */
public enum ErrorCode {
    /** An error not covered by another code; text required. */
    GENERIC(1),
    /** Unsuccessful, no reason known; no text. */
    UNSUCCESSFUL(2),
    /** The operation was already performed. */
    ALREADY_DONE(3),
    /** An error of the guest system (libvirt, mounts, ...); text required. */
    GUEST(4),
    /** A command executed on the guest failed; text required. */
    COMMAND(5),
    /** The requested or needed resource was not found; text required. */
    NOT_FOUND(6),
    /** The server does not support the operation. */
    UNSUPPORTED(7),
    /** The JSON input is not valid or has invalid arguments; text required. */
    INVALID(8);

    private final int wire;

    ErrorCode(int wire) {
        this.wire = wire;
    }

    public int wire() {
        return wire;
    }
}
