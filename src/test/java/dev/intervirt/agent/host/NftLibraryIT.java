package dev.intervirt.agent.host;

import dev.intervirt.agent.support.NftTestNamespace;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * libnftables in the agent's process on the real kernel, its context made in a namespace of
 * the test's own: batches commit, a failing batch reports nft's error and changes nothing,
 * the next batch works again; map-element deletions are answered at once; the transaction is
 * cheaper than through the {@code nft -i} process.
 */
class NftLibraryIT {

    @RegisterExtension
    static final NftTestNamespace NS = new NftTestNamespace(
            System.getProperty("intervirt.test.owner", "ivagent") + "-nftlib-" + ProcessHandle.current().pid());


    @Test
    void batchesCommitFailuresAreReportedAndTheNextBatchWorks() {
        try (NftLibrary lib = NftLibrary.load(NS.file())) {
            assertNotNull(lib, "libnftables.so.1 (installed with nftables) loads");
            ProcessRunner.Result add = lib.run(List.of("add element bridge t links { \"a\" . \"b\" }"));
            assertTrue(add.ok(), add.stderr());
            assertTrue(NS.links().contains("\"a\" . \"b\""));
            assertTrue(lib.run(List.of("add element bridge t links { \"a\" . \"b\" }")).ok(), "adding twice is no error");

            NS.assertFailingBatchChangesNothing(lib::run);

            ProcessRunner.Result delete = lib.run(List.of("delete element bridge t links { \"a\" . \"b\" }"));
            assertTrue(delete.ok(), "the next batch works (in the same namespace): " + delete.stderr());
            assertFalse(NS.links().contains("\"a\" . \"b\""));
            assertFalse(ProcessRunner.exec(List.of("nft", "list", "table", "bridge", "t"), null, 10).ok(),
                    "nothing happened in the agent's own namespace");
        }
    }

    @Test
    void aTablesListingGivesTheNamesOfTheNamespacesTables() {
        try (NftLibrary lib = NftLibrary.load(NS.file())) {
            ProcessRunner.Result list = lib.run(List.of("list tables"));
            assertTrue(list.ok(), list.stderr());
            List<String> tables = list.stdout().lines().map(String::strip).toList();
            assertTrue(tables.contains("table bridge t") && tables.contains("table inet f"), list.stdout());
            assertFalse(list.stdout().contains("links"), "names only, no sets: " + list.stdout());
        }
    }

    @Test
    void mapElementsAreReplacedAndDeletedAtOnceAndCheaperThanTheSession() {
        try (NftLibrary lib = NftLibrary.load(NS.file());
             NftSession session = new NftSession(NS.prefix(), "bridge t seq")) {
            session.run(List.of("add element bridge t links { \"w\" . \"x\" }")); // start-up
            long bestLib = Long.MAX_VALUE;
            long bestSession = Long.MAX_VALUE;
            for (int i = 0; i < 50; i++) {
                long t0 = System.nanoTime();
                ProcessRunner.Result add = lib.run(List.of("add element inet f forwards { tcp . " + (20000 + i) + " : 10.1.0.1 . 22 }"));
                long t1 = System.nanoTime();
                ProcessRunner.Result delete = session.run(List.of("delete element inet f forwards { tcp . " + (20000 + i) + " }"));
                long t2 = System.nanoTime();
                assertTrue(add.ok() && delete.ok(), add.stderr() + delete.stderr());
                bestLib = Math.min(bestLib, t1 - t0);
                bestSession = Math.min(bestSession, t2 - t1);
            }
            ProcessRunner.Result exists = lib.run(List.of("add element inet f forwards { tcp . 3000 : 10.1.0.1 . 22 }",
                    "add element inet f forwards { tcp . 3000 : 10.1.0.2 . 22 }"));
            assertFalse(exists.ok());
            assertTrue(exists.stderr().contains("File exists"), exists.stderr());
            assertTrue(lib.run(List.of("add element inet f forwards { tcp . 3000 : 10.1.0.2 . 22 }")).ok());
            assertTrue(lib.run(List.of("delete element inet f forwards { tcp . 3000 }")).ok());
            String map = NS.nft("list", "map", "inet", "f", "forwards");
            assertFalse(map.contains("elements"), map);
            assertTrue(bestLib < bestSession, "library " + bestLib / 1000 + " µs, session " + bestSession / 1000 + " µs");
        }
    }
}
