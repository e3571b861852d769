package dev.intervirt.agent.host;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;

import static dev.intervirt.agent.support.HostCommands.ok;
import static dev.intervirt.agent.support.HostCommands.sh;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * libvirt-java frees a domain handle in its finalizer, which may run while a native call on the
 * handle is still under way once nothing else refers to it: a wipe's undefine failed with
 * "invalid domain pointer in virDomainUndefine". The agent's calls hold their handles until
 * they are done; here they run from several threads with the collector and finalizers running
 * beside them the whole time. Its domains (never started) are named {@value #PREFIX}N.
 */
class LibvirtHandlesIT {

    private static final String PREFIX = "ivqhandles-";
    private static final int DOMAINS = 4;
    private static final int THREADS = 6;
    private static final int CALLS = 1500;

    @BeforeAll
    static void define() throws Exception {
        undefineAll();
        for (int i = 0; i < DOMAINS; i++) {
            Path xml = Files.createTempFile("ivhandles", ".xml");
            Files.writeString(xml, "<domain type='lxc'><name>" + PREFIX + i + "</name><memory unit='MiB'>64</memory>"
                    + "<os><type>exe</type><init>/bin/sh</init></os>"
                    + "<devices><filesystem type='mount'><source dir='/'/><target dir='/'/></filesystem></devices></domain>");
            ok("virsh", "-c", "lxc:///system", "define", xml.toString());
            Files.delete(xml);
        }
    }

    @AfterAll
    static void undefineAll() {
        for (int i = 0; i < DOMAINS; i++) {
            sh("virsh", "-c", "lxc:///system", "undefine", PREFIX + i);
        }
    }

    @Test
    void handlesStayValidWhileTheCollectorRuns() throws Exception {
        LibvirtHypervisor libvirt = new LibvirtHypervisor("lxc:///system", "ivqhandles", "ivqhbr0", PREFIX, false);
        libvirt.connect();
        ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
        AtomicBoolean working = new AtomicBoolean(true);
        Thread collector = new Thread(() -> {
            while (working.get()) {
                System.gc();
                System.runFinalization();
            }
        });
        collector.start();
        List<Thread> workers = new ArrayList<>();
        int[] running = new int[THREADS];
        try {
            for (int t = 0; t < THREADS; t++) {
                int self = t;
                Thread w = new Thread(() -> {
                    for (int c = 0; c < CALLS && failures.size() < 5; c++) {
                        String name = PREFIX + (c % DOMAINS);
                        try {
                            if (libvirt.isRunning(name)) {
                                running[self]++;
                            }
                            if (!libvirt.exists(name)) {
                                failures.add(name + " not found");
                            }
                        } catch (RuntimeException e) {
                            failures.add(e.getMessage());
                        }
                    }
                });
                workers.add(w);
                w.start();
            }
            for (Thread w : workers) {
                w.join();
            }
        } finally {
            working.set(false);
            collector.join();
            libvirt.close();
        }
        assertTrue(failures.isEmpty(), "calls failed with the collector running: " + failures);
        assertEquals(0, java.util.Arrays.stream(running).sum(), "none of the defined domains runs");
    }
}
