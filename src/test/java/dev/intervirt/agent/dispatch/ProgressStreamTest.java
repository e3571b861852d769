package dev.intervirt.agent.dispatch;

import dev.intervirt.agent.protocol.Reply;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ProgressStreamTest {

    private final List<Reply> sent = new CopyOnWriteArrayList<>();
    private final List<Long> sentAt = new CopyOnWriteArrayList<>();

    private ProgressStream stream() {
        return new ProgressStream("ref", reply -> {
            sent.add(reply);
            sentAt.add(System.nanoTime());
        });
    }

    @Test
    void aSilentStepIsCoveredByRepeatedMessagesUntilClose() throws Exception {
        ProgressStream s = stream();
        s.report(0.2, "stopping");
        Thread.sleep(ProgressStream.HEARTBEAT.toMillis() * 2 + 1500);
        s.close();
        int atClose = sent.size();
        assertTrue(atClose >= 3, "first message plus at least two heartbeats: " + sent);
        for (int i = 1; i < sentAt.size(); i++) {
            long gapMs = (sentAt.get(i) - sentAt.get(i - 1)) / 1_000_000;
            assertTrue(gapMs <= 5000, "gap of " + gapMs + " ms");
        }
        for (Reply r : sent) {
            assertEquals(-1, r.status());
            assertEquals("stopping", r.output());
            assertEquals("ref", r.refID());
        }
        Thread.sleep(ProgressStream.HEARTBEAT.toMillis() + 500);
        assertEquals(atClose, sent.size(), "nothing after close");
    }

    @Test
    void progressNeverFallsAndNoHeartbeatBeforeTheFirstMessage() throws Exception {
        ProgressStream s = stream();
        Thread.sleep(100);
        assertTrue(sent.isEmpty());
        s.report(0.5, "a");
        s.report(0.3, "b");
        s.report(Double.NaN, "c");
        s.close();
        assertEquals(List.of(0.5, 0.5, 0.5), sent.stream().map(Reply::progress).toList());
        s.report(0.9, "late");
        assertEquals(3, sent.size(), "a closed stream sends nothing");
    }
}
