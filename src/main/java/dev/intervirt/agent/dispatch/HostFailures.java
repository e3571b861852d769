package dev.intervirt.agent.dispatch;

import dev.intervirt.agent.host.HostException;
import dev.intervirt.agent.protocol.ErrorCode;

/** The one place where a host failure becomes a protocol code. */
final class HostFailures {

    private HostFailures() {
    }

    static ErrorCode code(HostException e) {
        return switch (e.kind()) {
            case UNAVAILABLE -> ErrorCode.GUEST;     // 4: the guest cannot do it now
            case MISSING -> ErrorCode.NOT_FOUND;     // 6
            case FAILED -> ErrorCode.COMMAND;        // 5: a host command failed, with its reason
        };
    }
}
