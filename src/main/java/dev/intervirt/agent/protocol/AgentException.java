package dev.intervirt.agent.protocol;

/**
 * A failure with its protocol code, thrown where the problem is known and turned into a
 * reply in one place (the dispatcher).
 */
public class AgentException extends RuntimeException {
    private final ErrorCode code;

    public AgentException(ErrorCode code, String message) {
        super(message);
        this.code = code;
    }

    public AgentException(ErrorCode code, String message, Throwable cause) {
        super(message, cause);
        this.code = code;
    }

    public ErrorCode code() {
        return code;
    }

    public static AgentException notFound(String message) {
        return new AgentException(ErrorCode.NOT_FOUND, message);
    }

    public static AgentException invalid(String message) {
        return new AgentException(ErrorCode.INVALID, message);
    }

    public static AgentException alreadyDone(String message) {
        return new AgentException(ErrorCode.ALREADY_DONE, message);
    }

    public static AgentException guest(String message, Throwable cause) {
        return new AgentException(ErrorCode.GUEST, message, cause);
    }

    public static AgentException noSuchContainer(String id) {
        return notFound("Container " + id + " doesn't exist.");
    }
}
