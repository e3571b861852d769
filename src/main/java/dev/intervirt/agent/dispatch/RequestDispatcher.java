package dev.intervirt.agent.dispatch;

import dev.intervirt.agent.concurrent.GrowingPool;
import dev.intervirt.agent.host.HostException;
import dev.intervirt.agent.protocol.AgentException;
import dev.intervirt.agent.protocol.ErrorCode;
import dev.intervirt.agent.protocol.Reply;
import dev.intervirt.agent.protocol.Request;
import dev.intervirt.agent.protocol.Text;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Instance;
import jakarta.inject.Inject;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Runs each request through its {@link RequestHandler} on the lanes the handler names (one per
 * container; guest-wide commands wait for everything before them), turns failures into error
 * replies (the one place where exceptions become protocol codes), and logs one line per
 * request: type, id, outcome, time.
 */
@ApplicationScoped
public class RequestDispatcher {

    private static final Logger LOG = Logger.getLogger(RequestDispatcher.class.getName());
    private static final int POOL_THREADS = 64;

    private HandlerRegistry handlers;
    private ExecutorService pool;
    private KeyedSerialExecutor lanes;

    protected RequestDispatcher() {
        // for CDI proxies
    }

    @Inject
    public RequestDispatcher(Instance<RequestHandler<?>> handlers) {
        this(new HandlerRegistry(handlers));
    }

    /** With handlers given directly (tests). */
    public RequestDispatcher(HandlerRegistry handlers) {
        this.handlers = handlers;
        AtomicInteger n = new AtomicInteger();
        // Lanes bound the parallelism to the number of busy containers; beyond the pool's
        // threads requests queue (never rejected, so every request gets its reply).
        this.pool = GrowingPool.create(POOL_THREADS, 30, r -> {
            Thread t = new Thread(r, "request-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        this.lanes = new KeyedSerialExecutor(pool);
    }

    @PreDestroy
    void shutdown() {
        pool.shutdown();
    }

    /**
     * Each request runs on the lanes its handler names; an immediate one (version) at once; a
     * quick one on this thread when its lanes are free, else on the pool once they are.
     */
    public void dispatch(Request request, Replier replier) {
        RequestHandler<Request> handler = handlers.of(request);
        if (handler.immediate(request)) {
            long t0 = System.nanoTime();
            replier.send(handler.handle(request, Progress.NONE, new ArrayList<>(0)));
            log(request, "ok", t0);
            return;
        }
        long received = System.nanoTime();
        Runnable run = () -> execute(handler, request, replier, received);
        // A short request whose lanes are free runs here: a hand-off to a pool thread cost more
        // than a Connect's own work (0.05-0.1 ms of its ~0.4 on a quiet machine).
        if (handler.quick(request) && lanes.runHereIfFree(handler.lanes(request), run)) {
            return;
        }
        lanes.submit(handler.lanes(request), run);
    }

    /** Runs internal work (not a request) on a container's lane, in order with its requests. */
    public void runInLane(String containerId, String what, Runnable task) {
        lanes.submit(List.of(containerId), () -> {
            try {
                task.run();
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, what + " of " + containerId + " failed: " + e.getMessage(), e);
            }
        });
    }

    /** Runs internal work (not a request) alone: after everything before it, before everything after it. */
    public java.util.concurrent.CompletableFuture<Void> runExclusive(Runnable task) {
        return lanes.submit(List.of(KeyedSerialExecutor.ALL), task);
    }

    private void execute(RequestHandler<Request> handler, Request request, Replier replier, long received) {
        long t0 = System.nanoTime();
        ProgressStream progress = new ProgressStream(request.uuid(), replier);
        List<Runnable> afterReply = new ArrayList<>(1);
        try (progress) {
            Reply reply = handler.handle(request, progress, afterReply);
            progress.close();
            long t1 = System.nanoTime();
            replier.send(reply);
            log(request, "ok", t0);
            if (LOG.isLoggable(Level.FINE)) {
                LOG.fine(String.format(java.util.Locale.ROOT, "%s uuid=%s: waited %.3f ms for its lanes, handled in %.3f,"
                                + " reply sent in %.3f", request.typeName(), Text.printable(request.uuid()),
                        (t0 - received) / 1e6, (t1 - t0) / 1e6, (System.nanoTime() - t1) / 1e6));
            }
            for (Runnable action : afterReply) {
                // The power command: only once the reply is out, on its own thread.
                Thread t = new Thread(action, "after-" + request.typeName().replace('/', '-'));
                t.setDaemon(false);
                t.start();
            }
        } catch (AgentException e) {
            replier.send(Reply.error(request.uuid(), e.code(), e.getMessage()));
            log(request, "error " + e.code().wire() + ": " + e.getMessage(), t0);
            LOG.log(Level.FINE, "failure detail", e);
        } catch (HostException e) {
            // libvirt, the kernel or a host command (nft, ip, mount ...) refused: its reason, its kind's code.
            ErrorCode code = HostFailures.code(e);
            replier.send(Reply.error(request.uuid(), code, e.getMessage()));
            log(request, "error " + code.wire() + ": " + e.getMessage(), t0);
            LOG.log(Level.FINE, "failure detail", e);
        } catch (RuntimeException | Error e) {
            LOG.log(Level.WARNING, "unexpected failure of " + request.typeName() + " " + request.uuid(), e);
            replier.send(Reply.error(request.uuid(), ErrorCode.GENERIC, "Internal error: " + e));
            log(request, "error 1: " + e, t0);
        }
    }

    private static void log(Request request, String outcome, long t0) {
        LOG.info(logLine(request, outcome, System.nanoTime() - t0));
    }

    /** Built by hand: String.format parses its pattern on every call, and this runs on every request. */
    static String logLine(Request request, String outcome, long nanos) {
        long tenthsOfMs = (nanos + 50_000) / 100_000;
        StringBuilder line = new StringBuilder(160).append(request.typeName()).append(" uuid=")
                .append(Text.printable(request.uuid()));
        List<String> ids = request.containerIds();
        for (int i = 0; i < ids.size(); i++) {
            line.append(i == 0 ? " id=" : ",").append(ids.get(i));
        }
        line.append(' ').append(outcome).append(" (").append(tenthsOfMs / 10).append('.').append(tenthsOfMs % 10).append(" ms)");
        return line.toString();
    }
}
