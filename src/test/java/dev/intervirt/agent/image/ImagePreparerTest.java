package dev.intervirt.agent.image;

import dev.intervirt.agent.value.ImageName;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.*;

/** Sources in order, one preparation per image at a time, failures remembered with their reasons. */
class ImagePreparerTest {

    static final ImageName NAME = ImageName.parse("fedora/43");

    /** A source that records calls and answers as told. */
    record Fake(String label, Predicate<ImageName> has, String failure, List<String> calls, CountDownLatch gate)
            implements ImageSource {
        @Override
        public String describe() {
            return label;
        }

        @Override
        public boolean mayHave(ImageName name) {
            return has.test(name);
        }

        @Override
        public boolean provide(ImageName name) {
            calls.add(label + " " + name);
            try {
                gate.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (failure != null) {
                throw new ImageSourceException(failure);
            }
            return true;
        }
    }

    private static void awaitIdle(ImagePreparer p, ImageName n) throws InterruptedException {
        for (int i = 0; i < 200 && p.isPreparing(n); i++) {
            Thread.sleep(25);
        }
        assertFalse(p.isPreparing(n));
    }

    @Test
    void aSecondRequestWhilePreparingStartsNothingNew() throws Exception {
        List<String> calls = new CopyOnWriteArrayList<>();
        CountDownLatch gate = new CountDownLatch(1);
        try (ImagePreparer p = new ImagePreparer(List.of(new Fake("server", n -> true, null, calls, gate)))) {
            p.request(NAME, () -> false);
            p.request(NAME, () -> false);
            assertTrue(p.isPreparing(NAME));
            gate.countDown();
            awaitIdle(p, NAME);
            assertEquals(List.of("server fedora/43"), calls);
            assertNull(p.recentFailure(NAME));
        }
    }

    @Test
    void aFailingSourceHandsOverToTheNextAndAllReasonsAreKept() throws Exception {
        List<String> calls = new CopyOnWriteArrayList<>();
        CountDownLatch open = new CountDownLatch(0);
        try (ImagePreparer p = new ImagePreparer(List.of(
                new Fake("server", n -> true, "unreachable", calls, open),
                new Fake("builder", n -> n.distribution().equals("debian"), null, calls, open),
                new Fake("other", n -> true, "disk full", calls, open)))) {
            p.request(NAME, () -> false);
            awaitIdle(p, NAME);
            assertEquals(List.of("server fedora/43", "other fedora/43"), calls, "a source that cannot have it is skipped");
            ImagePreparer.Failure f = p.recentFailure(NAME);
            assertNotNull(f);
            assertEquals("server failed: unreachable; other failed: disk full", f.reason());
        }
    }

    @Test
    void anImageThatBecameReadyMeanwhileIsNotFetched() throws Exception {
        List<String> calls = new CopyOnWriteArrayList<>();
        try (ImagePreparer p = new ImagePreparer(List.of(new Fake("server", n -> true, null, calls, new CountDownLatch(0))))) {
            p.request(NAME, () -> true);
            awaitIdle(p, NAME);
            assertEquals(List.of(), calls);
        }
    }

    @Test
    void withoutSourcesNothingMayHaveIt() {
        try (ImagePreparer p = new ImagePreparer(List.of())) {
            assertFalse(p.hasSources());
            assertFalse(p.mayHave(NAME));
        }
    }
}
