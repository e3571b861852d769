package dev.intervirt.agent.dispatch;

import dev.intervirt.agent.protocol.Reply;
import dev.intervirt.agent.protocol.Request;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Where the dispatcher runs a request: a quick one (Connect here) on the connection's thread
 * when its lanes are free, on a pool thread after the request that holds its lane otherwise;
 * a long one (StartContainer) always on a pool thread.
 */
class RequestDispatcherQuickTest {

    /** Which thread handled each request (by uuid), and in what order. */
    private final Map<String, Thread> handledOn = new ConcurrentHashMap<>();
    private final List<String> order = Collections.synchronizedList(new ArrayList<>());
    private final LinkedBlockingQueue<Reply> replies = new LinkedBlockingQueue<>();
    private volatile CountDownLatch startGate = new CountDownLatch(0);

    private final RequestDispatcher dispatcher = new RequestDispatcher(new HandlerRegistry(handlers()));

    @Test
    void aQuickRequestWithFreeLanesRunsOnTheCallersThread() throws Exception {
        dispatcher.dispatch(new Request.Connect("c1", "a", "b"), replies::add);
        assertEquals("c1", reply().refID());
        assertEquals(Thread.currentThread(), handledOn.get("c1"));
    }

    @Test
    void aLongRequestNeverRunsOnTheCallersThread() throws Exception {
        dispatcher.dispatch(new Request.StartContainer("s1", "a"), replies::add);
        assertEquals("s1", reply().refID());
        assertNotNull(handledOn.get("s1"));
        assertNotEquals(Thread.currentThread(), handledOn.get("s1"));
    }

    @Test
    void aQuickRequestWhoseLaneIsHeldWaitsItsTurnOnThePool() throws Exception {
        startGate = new CountDownLatch(1);
        dispatcher.dispatch(new Request.StartContainer("s1", "a"), replies::add);
        dispatcher.dispatch(new Request.Connect("c1", "a", "b"), replies::add);
        dispatcher.dispatch(new Request.Connect("c2", "x", "y"), replies::add);
        // the link between x and y shares no lane with the start: answered while it goes on
        assertEquals("c2", reply().refID());
        assertEquals(Thread.currentThread(), handledOn.get("c2"));
        startGate.countDown();
        assertEquals("s1", reply().refID());
        assertEquals("c1", reply().refID());
        assertEquals(List.of("c2", "s1", "c1"), order);
        assertNotEquals(Thread.currentThread(), handledOn.get("c1"));
    }

    private Reply reply() throws InterruptedException {
        Reply r = replies.poll(10, TimeUnit.SECONDS);
        assertNotNull(r, "no reply within 10 s");
        return r;
    }

    /** A handler for every request type; only Connect is quick, StartContainer waits for the gate. */
    private List<RequestHandler<?>> handlers() {
        List<RequestHandler<?>> all = new ArrayList<>();
        for (Class<?> type : HandlerRegistry.requestTypes()) {
            all.add(new Recording<>(type.asSubclass(Request.class)));
        }
        return all;
    }

    private final class Recording<T extends Request> implements RequestHandler<T> {
        private final Class<T> type;

        Recording(Class<T> type) {
            this.type = type;
        }

        @Override
        public Class<T> type() {
            return type;
        }

        @Override
        public boolean quick(T request) {
            return request instanceof Request.Connect;
        }

        @Override
        public Reply handle(T request, Progress progress, List<Runnable> afterReply) {
            if (request instanceof Request.StartContainer) {
                try {
                    assertTrue(startGate.await(10, TimeUnit.SECONDS));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            handledOn.put(request.uuid(), Thread.currentThread());
            order.add(request.uuid());
            return Reply.done(request.uuid());
        }
    }
}
