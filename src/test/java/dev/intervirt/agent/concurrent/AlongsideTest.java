package dev.intervirt.agent.concurrent;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AlongsideTest {

    private final Alongside ahead = new Alongside("test-alongside");
    private final List<String> done = new CopyOnWriteArrayList<>();

    @AfterEach
    void close() {
        ahead.close();
    }

    @Test
    void theSaveRunsBesideTheHostChangesAndBothAreDoneOnReturn() throws InterruptedException {
        CountDownLatch hostStarted = new CountDownLatch(1);
        CountDownLatch saveSawHost = new CountDownLatch(1);
        ahead.run(() -> {
            try {
                // the save is under way while the host changes are: it sees them start
                if (hostStarted.await(5, TimeUnit.SECONDS)) {
                    saveSawHost.countDown();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            done.add("save");
        }, () -> done.add("unsave"), () -> {
            hostStarted.countDown();
            try {
                assertTrue(saveSawHost.await(5, TimeUnit.SECONDS), "the save ran on another thread meanwhile");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            done.add("host");
        });
        assertEquals(List.of("host", "save"), done.stream().sorted().toList());
    }

    static Stream<Named<Alongside>> besideAndInOrder() {
        return Stream.of(Named.of("beside", new Alongside("test-alongside-both")), Named.of("in order", Alongside.inOrder()));
    }

    @ParameterizedTest
    @MethodSource("besideAndInOrder")
    void aFailedHostChangeTakesTheSavedChangeBackAndIsThrown(Alongside alongside) {
        IllegalStateException failure = new IllegalStateException("no such device");
        try (alongside) {
            IllegalStateException thrown = assertThrows(IllegalStateException.class,
                    () -> alongside.run(() -> done.add("save"), () -> done.add("unsave"), () -> {
                        throw failure;
                    }));
            assertSame(failure, thrown);
        }
        assertEquals(List.of("save", "unsave"), done);
    }

    @Test
    void aFailedSaveIsThrownOnceTheHostChangesAreDoneSoThatTheyCanBeUndone() {
        IllegalStateException failure = new IllegalStateException("disk full");
        IllegalStateException thrown = assertThrows(IllegalStateException.class,
                () -> ahead.run(() -> {
                    throw failure;
                }, () -> done.add("unsave"), () -> done.add("host")));
        assertSame(failure, thrown);
        assertEquals(List.of("host"), done, "nothing to take back: the save never happened");
    }

    @Test
    void theWorkBesideRunsWithTheCallersContextClassLoader() {
        ClassLoader own = new ClassLoader(getClass().getClassLoader()) {
        };
        Thread t = Thread.currentThread();
        ClassLoader before = t.getContextClassLoader();
        t.setContextClassLoader(own);
        try {
            ahead.run(() -> done.add(Thread.currentThread().getContextClassLoader() == own ? "caller's" : "other"),
                    () -> { }, () -> { });
        } finally {
            t.setContextClassLoader(before);
        }
        assertEquals(List.of("caller's"), done);
    }

    @Test
    void whenBothFailTheHostFailureIsThrownAndNothingIsTakenBack() {
        IllegalStateException host = new IllegalStateException("host");
        IllegalStateException thrown = assertThrows(IllegalStateException.class, () -> ahead.run(() -> {
            throw new IllegalStateException("save");
        }, () -> done.add("unsave"), () -> {
            throw host;
        }));
        assertSame(host, thrown);
        assertEquals(List.of(), done);
    }

    @Test
    void inOrderTheSaveRunsFirstOnTheCallersThreadThenTheHostChanges() {
        Thread caller = Thread.currentThread();
        Alongside.inOrder().run(() -> done.add(Thread.currentThread() == caller ? "save here" : "save elsewhere"),
                () -> done.add("unsave"), () -> done.add(Thread.currentThread() == caller ? "host here" : "host elsewhere"));
        assertEquals(List.of("save here", "host here"), done);
    }

    @Test
    void inOrderAFailedSaveIsThrownAndNoHostChangeIsMade() {
        IllegalStateException failure = new IllegalStateException("disk full");
        IllegalStateException thrown = assertThrows(IllegalStateException.class,
                () -> Alongside.inOrder().run(() -> {
                    throw failure;
                }, () -> done.add("unsave"), () -> done.add("host")));
        assertSame(failure, thrown);
        assertEquals(List.of(), done, "nothing made, nothing to take back");
    }
}
