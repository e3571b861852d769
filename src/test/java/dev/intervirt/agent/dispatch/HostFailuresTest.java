package dev.intervirt.agent.dispatch;

import dev.intervirt.agent.host.CommandFailedException;
import dev.intervirt.agent.host.HostException;
import dev.intervirt.agent.protocol.ErrorCode;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class HostFailuresTest {

    @Test
    void eachKindHasItsProtocolCode() {
        assertEquals(ErrorCode.GUEST, HostFailures.code(HostException.unavailable("libvirt is down")));
        assertEquals(ErrorCode.NOT_FOUND, HostFailures.code(HostException.missing("libvirt has no domain x.")));
        assertEquals(ErrorCode.COMMAND, HostFailures.code(HostException.failed("mount failed")));
    }

    @Test
    void aFailedHostCommandIsCode5WithItsReason() {
        CommandFailedException e = new CommandFailedException(List.of("nft", "add", "rule"), 1, "Error: No such file or directory\n");
        assertEquals(ErrorCode.COMMAND, HostFailures.code(e));
        assertEquals("nft add rule failed (exit 1): Error: No such file or directory", e.getMessage());
    }
}
