package dev.intervirt.agent.dispatch;

import dev.intervirt.agent.container.ContainerService;
import dev.intervirt.agent.guest.GuestService;
import dev.intervirt.agent.host.CommandFailedException;
import dev.intervirt.agent.network.NetworkService;
import dev.intervirt.agent.protocol.AgentException;
import dev.intervirt.agent.protocol.ErrorCode;
import dev.intervirt.agent.protocol.Reply;
import dev.intervirt.agent.protocol.Request;
import dev.intervirt.agent.protocol.Request.*;
import dev.intervirt.agent.protocol.Text;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Routes each request to its service on an ordered lane (one per container; guest-wide
 * commands wait for everything before them), turns the outcome into replies, and logs one
 * line per request: type, id, outcome, time.
 */
@ApplicationScoped
public class RequestDispatcher {

    private static final Logger LOG = Logger.getLogger(RequestDispatcher.class.getName());
    private static final String FORWARD_KEY = "forward:";
    private static final int POOL_THREADS = 64;

    private ContainerService containers;
    private NetworkService network;
    private GuestService guest;
    private ExecutorService pool;
    private KeyedSerialExecutor lanes;

    protected RequestDispatcher() {
        // for CDI proxies
    }

    @Inject
    public RequestDispatcher(ContainerService containers, NetworkService network, GuestService guest) {
        this.containers = containers;
        this.network = network;
        this.guest = guest;
        AtomicInteger n = new AtomicInteger();
        // Lanes bound the parallelism to the number of busy containers; beyond the pool's
        // threads requests queue (never rejected, so every request gets its reply).
        ThreadPoolExecutor executor = new ThreadPoolExecutor(POOL_THREADS, POOL_THREADS, 30, TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(), r -> {
                    Thread t = new Thread(r, "request-" + n.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });
        executor.allowCoreThreadTimeOut(true);
        this.pool = executor;
        this.lanes = new KeyedSerialExecutor(pool);
    }

    @PreDestroy
    void shutdown() {
        pool.shutdown();
    }

    /** Version is answered at once; everything else runs on its lane. */
    public void dispatch(Request request, Replier replier) {
        if (request instanceof GuestCommand g && g.command() == Command.VERSION) {
            long t0 = System.nanoTime();
            replier.send(Reply.version(request.uuid(), guest.version()));
            log(request, "ok", t0);
            return;
        }
        lanes.submit(keysOf(request), () -> execute(request, replier));
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

    private void execute(Request request, Replier replier) {
        long t0 = System.nanoTime();
        ProgressStream progress = new ProgressStream(request.uuid(), replier);
        List<Runnable> afterReply = new ArrayList<>(1);
        try (progress) {
            String note = handle(request, progress, afterReply);
            progress.close();
            replier.send(note == null ? Reply.done(request.uuid()) : Reply.doneWithNote(request.uuid(), note));
            log(request, "ok", t0);
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
        } catch (CommandFailedException e) {
            // A host command (nft, ip, nsenter, mount ...) failed: code 5 with its reason.
            replier.send(Reply.error(request.uuid(), ErrorCode.COMMAND, e.getMessage()));
            log(request, "error 5: " + e.getMessage(), t0);
        } catch (RuntimeException | Error e) {
            LOG.log(Level.WARNING, "unexpected failure of " + request.typeName() + " " + request.uuid(), e);
            replier.send(Reply.error(request.uuid(), ErrorCode.GENERIC, "Internal error: " + e));
            log(request, "error 1: " + e, t0);
        }
    }

    /** Runs the request; returns a note for the success message, or null. */
    private String handle(Request request, Progress progress, List<Runnable> afterReply) {
        if (request instanceof AddContainer r) {
            return containers.add(r);
        } else if (request instanceof StartContainer r) {
            containers.start(r.id());
        } else if (request instanceof StopContainer r) {
            containers.stop(r.id());
        } else if (request instanceof RemoveContainer r) {
            containers.remove(r.id(), progress);
        } else if (request instanceof SetIpv4 r) {
            network.setIpv4(r.id(), r.address());
        } else if (request instanceof SetIpv6 r) {
            network.setIpv6(r.id(), r.address());
        } else if (request instanceof Connect r) {
            network.connect(r.id1(), r.id2());
        } else if (request instanceof Disconnect r) {
            network.disconnect(r.id1(), r.id2());
        } else if (request instanceof SetInternetAccess r) {
            network.setInternet(r.id(), r.enabled());
        } else if (request instanceof AddPortForwarding r) {
            network.addForward(r.id(), r.internalPort(), r.externalPort(), r.protocol());
        } else if (request instanceof RemovePortForwarding r) {
            network.removeForward(r.externalPort(), r.protocol());
        } else if (request instanceof GuestCommand g && g.command() == Command.WIPE) {
            guest.wipe(progress);
        } else if (request instanceof GuestCommand g && g.command() == Command.UPDATE) {
            guest.update(progress);
        } else if (request instanceof GuestCommand g && g.command() == Command.SHUTDOWN) {
            afterReply.add(guest.powerOff(GuestService.Power.SHUTDOWN));
        } else if (request instanceof GuestCommand g && g.command() == Command.REBOOT) {
            afterReply.add(guest.powerOff(GuestService.Power.REBOOT));
        }
        return null;
    }

    static List<String> keysOf(Request request) {
        if (request instanceof GuestCommand) {
            return List.of(KeyedSerialExecutor.ALL);
        }
        List<String> keys = new ArrayList<>(request.containerIds());
        if (request instanceof AddPortForwarding f) {
            keys.add(FORWARD_KEY + f.protocol().wireName() + "/" + f.externalPort());
        } else if (request instanceof RemovePortForwarding f) {
            keys.add(FORWARD_KEY + f.protocol().wireName() + "/" + f.externalPort());
        }
        return keys;
    }

    private static void log(Request request, String outcome, long t0) {
        String ids = String.join(",", request.containerIds());
        LOG.info(String.format("%s uuid=%s%s %s (%.1f ms)", request.typeName(), Text.printable(request.uuid()),
                ids.isEmpty() ? "" : " id=" + ids, outcome, (System.nanoTime() - t0) / 1e6));
    }
}
