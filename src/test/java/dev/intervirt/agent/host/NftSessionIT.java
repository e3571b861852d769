package dev.intervirt.agent.host;

import dev.intervirt.agent.support.NftTestNamespace;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The long-lived nft session on the real kernel, in a network namespace of its own: batches
 * commit, a no-op batch still gets its answer (the marker listing), a failing batch reports
 * nft's error and changes nothing, and the session recovers for the next batch; thousands of
 * elements in a set do not slow a batch down.
 */
class NftSessionIT {

    @RegisterExtension
    static final NftTestNamespace NS = new NftTestNamespace("ivsess-" + ProcessHandle.current().pid());


    @Test
    void batchesCommitFailuresAreReportedAndTheSessionRecovers() {
        try (NftSession s = new NftSession(NS.prefix(), "bridge t seq")) {
            ProcessRunner.Result add = s.run(List.of("add element bridge t links { \"a\" . \"b\" }"));
            assertTrue(add.ok(), add.stderr());
            assertTrue(NS.links().contains("\"a\" . \"b\""));

            ProcessRunner.Result again = s.run(List.of("add element bridge t links { \"a\" . \"b\" }"));
            assertTrue(again.ok(), "a batch that changes nothing is still answered: " + again.stderr());

            NS.assertFailingBatchChangesNothing(s::run);

            ProcessRunner.Result delete = s.run(List.of(
                    "add element bridge t links { \"a\" . \"b\" }",
                    "delete element bridge t links { \"a\" . \"b\" }"));
            assertTrue(delete.ok(), "the session recovered: " + delete.stderr());
            assertFalse(NS.links().contains("\"a\" . \"b\""));
            String seq = NS.nft("list", "set", "bridge", "t", "seq");
            assertFalse(seq.contains("elements"), "the marker set is only listed, never changed: " + seq);
        }
    }

    /** nft 1.0.6 printed no commit line for a batch starting with a map-element deletion (a 5 s wait). */
    @Test
    void mapElementDeletionsAreAnsweredAtOnce() {
        try (NftSession s = new NftSession(NS.prefix(), "bridge t seq")) {
            for (int i = 0; i < 3; i++) {
                ProcessRunner.Result add = s.run(List.of("add element inet f forwards { tcp . 2000" + i + " : 10.1.0.1 . 22 }"));
                assertTrue(add.ok(), add.stderr());
                long t0 = System.nanoTime();
                ProcessRunner.Result delete = s.run(List.of("delete element inet f forwards { tcp . 2000" + i + " }"));
                long ms = (System.nanoTime() - t0) / 1_000_000;
                assertTrue(delete.ok(), delete.stderr());
                assertTrue(ms < 1000, "answered in " + ms + " ms");
            }
            String map = NS.nft("list", "map", "inet", "f", "forwards");
            assertFalse(map.contains("elements"), map);
        }
    }

    /** nft -e loaded every element for each batch (~10 ms with 5,000); without it a batch stays cheap. */
    @Test
    void aLargeSetDoesNotSlowABatchDown() {
        StringBuilder many = new StringBuilder("add element bridge t links { ");
        for (int i = 0; i < 5000; i++) {
            many.append(i == 0 ? "" : ", ").append("\"m").append(i).append("\" . \"n").append(i).append('"');
        }
        NS.nftScript(many.append(" }\n").toString());
        try (NftSession s = new NftSession(NS.prefix(), "bridge t seq")) {
            s.run(List.of("add element bridge t links { \"w\" . \"x\" }")); // session start-up
            long best = Long.MAX_VALUE;
            for (int i = 0; i < 20; i++) {
                long t0 = System.nanoTime();
                ProcessRunner.Result r = s.run(List.of("add element bridge t links { \"y" + i + "\" . \"z\" }"));
                best = Math.min(best, System.nanoTime() - t0);
                assertTrue(r.ok(), r.stderr());
            }
            // echo mode took >= 5 ms here even at its best; without it ~0.3 ms
            assertTrue(best < 3_000_000, "best batch took " + best / 1000 + " µs with 5,000 elements");
        } finally {
            NS.nft("flush", "set", "bridge", "t", "links");
        }
    }
}
