package dev.intervirt.agent.support;

import jakarta.json.JsonObject;
import jakarta.json.JsonObjectBuilder;
import jakarta.json.spi.JsonProvider;
import jakarta.websocket.ClientEndpointConfig;
import jakarta.websocket.CloseReason;
import jakarta.websocket.ContainerProvider;
import jakarta.websocket.Endpoint;
import jakarta.websocket.EndpointConfig;
import jakarta.websocket.MessageHandler;
import jakarta.websocket.Session;
import jakarta.websocket.WebSocketContainer;

import java.io.IOException;
import java.io.StringReader;
import java.net.URI;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * A test client speaking the protocol like the desktop client: JSON text frames with a uuid,
 * replies matched by refID. Replies without a refID land in their own queue.
 */
public final class AgentClient implements AutoCloseable {

    /** All messages of one request, the last one being final (not a progress message). */
    public record Exchange(List<JsonObject> progress, JsonObject last, long millis) {
        public boolean ok() {
            return !last.containsKey("code") || last.getInt("code") == 0;
        }

        public int code() {
            return last.containsKey("code") ? last.getInt("code") : 0;
        }

        public String error() {
            return last.containsKey("error") ? last.getString("error") : "";
        }

        @Override
        public String toString() {
            return "progress=" + progress + " last=" + last;
        }
    }

    /**
     * Looked up once: {@code Json.createReader} searches the class path for a provider on every
     * call (50-160 µs with the test class path), which every measured round trip paid.
     */
    private static final JsonProvider JSON = JsonProvider.provider();
    private static final String NO_REF = "";
    private final Session session;
    private final Map<String, BlockingQueue<JsonObject>> inbox = new ConcurrentHashMap<>();
    /** Completed by onClose, which Tyrus calls a moment after the session already reports itself closed. */
    private final CompletableFuture<CloseReason> closed;

    private AgentClient(Session session, CompletableFuture<CloseReason> closed) {
        this.session = session;
        this.closed = closed;
    }

    public static AgentClient connect(int port) {
        return connect(URI.create("ws://127.0.0.1:" + port + "/containerManagement"));
    }

    public static AgentClient connect(URI uri) {
        WebSocketContainer container = ContainerProvider.getWebSocketContainer();
        container.setDefaultMaxTextMessageBufferSize(8 << 20);
        AgentClient[] holder = new AgentClient[1];
        CompletableFuture<CloseReason> closed = new CompletableFuture<>();
        Endpoint endpoint = new Endpoint() {
            @Override
            public void onOpen(Session session, EndpointConfig config) {
                session.addMessageHandler(String.class, (MessageHandler.Whole<String>) text -> holder[0].received(text));
            }

            @Override
            public void onClose(Session session, CloseReason reason) {
                closed.complete(reason);
            }
        };
        try {
            Session s = container.connectToServer(endpoint, ClientEndpointConfig.Builder.create().build(), uri);
            holder[0] = new AgentClient(s, closed);
            return holder[0];
        } catch (Exception e) {
            throw new IllegalStateException("cannot connect to " + uri + ": " + e, e);
        }
    }

    private void received(String text) {
        JsonObject o = JSON.createReader(new StringReader(text)).readObject();
        String ref = o.containsKey("refID") ? o.getString("refID") : NO_REF;
        queue(ref).add(o);
    }

    private BlockingQueue<JsonObject> queue(String ref) {
        return inbox.computeIfAbsent(ref, k -> new LinkedBlockingQueue<>());
    }

    public static JsonObjectBuilder request(String type) {
        return JSON.createObjectBuilder().add("type", type).add("uuid", UUID.randomUUID().toString());
    }

    /** Sends the request and waits for its final reply. */
    public Exchange call(JsonObjectBuilder request) {
        return call(request.build(), Duration.ofSeconds(120));
    }

    public Exchange call(JsonObject request, Duration timeout) {
        long t0 = System.nanoTime();
        sendText(request.toString());
        return awaitFinal(request.getString("uuid"), timeout, t0);
    }

    /** Sends without waiting; returns the uuid. */
    public String send(JsonObjectBuilder request) {
        JsonObject o = request.build();
        sendText(o.toString());
        return o.getString("uuid");
    }

    public Exchange awaitFinal(String uuid, Duration timeout, long t0) {
        List<JsonObject> progress = new ArrayList<>();
        long deadline = System.nanoTime() + timeout.toNanos();
        BlockingQueue<JsonObject> q = queue(uuid);
        while (true) {
            JsonObject o;
            try {
                // In slices: a closed connection ends the wait (an agent that died mid-request)
                // instead of the whole timeout.
                long slice = Math.min(TimeUnit.SECONDS.toNanos(1), Math.max(1, deadline - System.nanoTime()));
                o = q.poll(slice, TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
            if (o == null && closeReason() != null && q.isEmpty()) {
                throw new AssertionError("the connection closed before the final reply to " + uuid + " (" + closeReason()
                        + "); progress so far: " + progress);
            }
            if (o == null && System.nanoTime() < deadline) {
                continue;
            }
            if (o == null) {
                throw new AssertionError("no final reply to " + uuid + " within " + timeout + "; progress so far: " + progress
                        + (closeReason() != null ? "; connection closed: " + closeReason() : ""));
            }
            if (o.containsKey("status") && o.getInt("status") == -1) {
                progress.add(o);
                continue;
            }
            return new Exchange(progress, o, (System.nanoTime() - t0) / 1_000_000);
        }
    }

    /** The next reply that carried no refID (replies to frames whose uuid could not be read). */
    public JsonObject awaitUnreferenced(Duration timeout) {
        try {
            JsonObject o = queue(NO_REF).poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
            if (o == null) {
                throw new AssertionError("no reply without refID within " + timeout);
            }
            return o;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** The next message with this refID ("" for none), or null if none came within the timeout. */
    public JsonObject poll(String ref, Duration timeout) {
        try {
            return queue(ref == null ? NO_REF : ref).poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** How many messages are waiting, over all refIDs (0 when every reply was taken). */
    public int pending() {
        return inbox.values().stream().mapToInt(BlockingQueue::size).sum();
    }

    public void sendText(String text) {
        try {
            synchronized (session) {
                session.getBasicRemote().sendText(text);
            }
        } catch (IOException e) {
            throw new IllegalStateException("send failed: " + e, e);
        } catch (RejectedExecutionException closedMeanwhile) {
            // Tyrus' client restarts its idle timer after the frame is written; when the agent
            // closed the connection in between (a message over the limit), the closed session's
            // timer pool refuses. The frame went out: what follows is the close, as the caller expects.
            if (session.isOpen()) {
                throw closedMeanwhile;
            }
        }
    }

    public void sendBinary(byte[] data) {
        try {
            synchronized (session) {
                session.getBasicRemote().sendBinary(ByteBuffer.wrap(data));
            }
        } catch (IOException e) {
            throw new IllegalStateException("send failed: " + e, e);
        }
    }

    public boolean isOpen() {
        return session.isOpen();
    }

    /** Why the connection closed, or null while no close has been seen. */
    public CloseReason closeReason() {
        return closed.getNow(null);
    }

    /** Waits until the connection has closed and says why, or null if it stayed open for the timeout. */
    public CloseReason awaitClose(Duration timeout) {
        try {
            return closed.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.TimeoutException stillOpen) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException(e.getCause());
        }
    }

    @Override
    public void close() {
        try {
            session.close();
        } catch (IOException e) {
            // already gone
        }
    }
}
