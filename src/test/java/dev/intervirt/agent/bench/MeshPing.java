package dev.intervirt.agent.bench;

import dev.intervirt.agent.host.ProcessRunner;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Checks that every link passes a ping: for each container, one {@code fping} inside its
 * network namespace pings all the peers it should reach (each link once, from its lower end),
 * several containers at a time; links that fail are tried again until all pass or the deadline.
 */
final class MeshPing {

    /** One container that pings: its init pid and the addresses of the peers it must reach. */
    record Prober(String id, int initPid, List<String> targets) {
    }

    record Result(boolean allPassed, double millis, int links, int rounds, Set<String> failing) {
    }

    private MeshPing() {
    }

    static Result check(List<Prober> probers, long deadlineMillis, int parallel) throws Exception {
        long t0 = System.nanoTime();
        int links = probers.stream().mapToInt(p -> p.targets().size()).sum();
        Map<Prober, List<String>> pending = new HashMap<>();
        for (Prober p : probers) {
            if (!p.targets().isEmpty()) {
                pending.put(p, p.targets());
            }
        }
        int rounds = 0;
        ExecutorService pool = Executors.newFixedThreadPool(parallel);
        try {
            while (!pending.isEmpty() && (System.nanoTime() - t0) / 1_000_000 < deadlineMillis) {
                rounds++;
                Map<Prober, Future<List<String>>> futures = new HashMap<>();
                for (Map.Entry<Prober, List<String>> e : pending.entrySet()) {
                    futures.put(e.getKey(), pool.submit(() -> unreachable(e.getKey().initPid(), e.getValue())));
                }
                Map<Prober, List<String>> next = new HashMap<>();
                for (Map.Entry<Prober, Future<List<String>>> e : futures.entrySet()) {
                    List<String> failed = e.getValue().get();
                    if (!failed.isEmpty()) {
                        next.put(e.getKey(), failed);
                    }
                }
                pending = next;
            }
        } finally {
            pool.shutdownNow();
        }
        Set<String> failing = ConcurrentHashMap.newKeySet();
        pending.forEach((p, targets) -> targets.forEach(t -> failing.add(p.id() + "->" + t)));
        return new Result(pending.isEmpty(), (System.nanoTime() - t0) / 1e6, links, rounds, failing);
    }

    /** fping -u prints the targets that did not answer (one try, 500 ms, 1 ms between targets). */
    private static List<String> unreachable(int pid, List<String> targets) {
        List<String> cmd = new ArrayList<>(List.of("nsenter", "-t", Integer.toString(pid), "-n", "fping", "-u", "-r", "0",
                "-t", "500", "-i", "1"));
        cmd.addAll(targets);
        ProcessRunner.Result r = ProcessRunner.exec(cmd, null, 60);
        if (r.exitCode() == 0) {
            return List.of();
        }
        List<String> failed = r.stdout().lines().map(String::strip).filter(l -> !l.isEmpty()).toList();
        // exit 1 = some unreachable (listed); anything else (e.g. the namespace is gone): all count as failed
        return r.exitCode() == 1 && !failed.isEmpty() ? failed : targets;
    }
}
