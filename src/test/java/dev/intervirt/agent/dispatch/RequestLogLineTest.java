package dev.intervirt.agent.dispatch;

import dev.intervirt.agent.protocol.Request;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The one line per request: type, uuid, ids, outcome, time to a tenth of a millisecond. */
class RequestLogLineTest {

    @Test
    void aLinkRequestNamesBothIds() {
        assertEquals("Connect uuid=u-1 id=pc-1,pc-2 ok (1.2 ms)",
                RequestDispatcher.logLine(new Request.Connect("u-1", "pc-1", "pc-2"), "ok", 1_234_567));
    }

    @Test
    void aGuestCommandHasNoIdsAndTimesRoundToTheNearestTenth() {
        Request version = new Request.GuestCommand("u-2", Request.Command.VERSION);
        assertEquals("Command/version uuid=u-2 ok (0.0 ms)", RequestDispatcher.logLine(version, "ok", 49_999));
        assertEquals("Command/version uuid=u-2 ok (0.1 ms)", RequestDispatcher.logLine(version, "ok", 50_000));
        assertEquals("Command/version uuid=u-2 error 7: disabled (12.0 ms)",
                RequestDispatcher.logLine(version, "error 7: disabled", 11_960_000));
    }

    @Test
    void aUuidWithControlCharactersIsEscaped() {
        assertEquals("Command/wipe uuid=a\\u000ab ok (0.0 ms)",
                RequestDispatcher.logLine(new Request.GuestCommand("a\nb", Request.Command.WIPE), "ok", 0));
    }
}
