package dev.intervirt.agent.bench;

import dev.intervirt.agent.host.DomainXml;
import dev.intervirt.agent.host.Hypervisor.DomainSpec;
import dev.intervirt.agent.host.InitCgroupPlacement;
import dev.intervirt.agent.host.LxcInitPid;
import dev.intervirt.agent.host.ProcessRunner;
import dev.intervirt.agent.value.MacAddress;
import org.libvirt.Connect;
import org.libvirt.Domain;
import org.libvirt.LibvirtException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The raw primitives the agent is built from, driven directly with no agent in between: an
 * overlay mount, libvirt define and start of the same domain XML with the same image, the
 * graceful stop (systemd's poweroff signal, wait for "shut off"), undefine and delete; one
 * nftables set-element add and delete (one {@code nft} process each); one route add and
 * delete inside a running container's network namespace ({@code nsenter … ip}), and the same
 * route changes in bulk ({@code ip -batch} of {@value #BULK} in one namespace, per change: the
 * amortised kernel floor, no process start-up), and address changes in bulk the same way. Everything it makes is named {@code ivqfloor*}
 * and removed again.
 */
final class Floor {

    static final String PREFIX = "ivqfloor";
    static final int BULK = 1000;
    private static final int BULK_ROUNDS = 5;
    private static final String TABLE = PREFIX;

    final Samples define = new Samples();
    final Samples mount = new Samples();
    final Samples start = new Samples();
    final Samples addStart = new Samples();
    final Samples stop = new Samples();
    final Samples remove = new Samples();
    final Samples nftAdd = new Samples();
    final Samples nftDelete = new Samples();
    final Samples routeAdd = new Samples();
    final Samples routeDelete = new Samples();
    /** Per change, one sample per batch of {@link #BULK}. */
    final Samples routeBulk = new Samples();
    /** Per change, one sample per batch of {@link #BULK}: a /32 address added and deleted in turn (SetIpv4's own swap). */
    final Samples addressBulk = new Samples();
    /** Per element, one sample per {@code nft -f} transaction of {@link #BULK} adds and deletes. */
    final Samples nftBulk = new Samples();

    private final Path imageRootfs;
    private final Path workDir;
    private final String network;
    private final Connect libvirt;

    Floor(Path imageRootfs, Path workDir, String libvirtNetwork) throws LibvirtException {
        this(imageRootfs, workDir, libvirtNetwork, true);
    }

    private Floor(Path imageRootfs, Path workDir, String libvirtNetwork, boolean containers) throws LibvirtException {
        this.imageRootfs = imageRootfs;
        this.workDir = workDir;
        this.network = libvirtNetwork;
        this.libvirt = containers ? new Connect("lxc:///system") : null;
    }

    /** {@code containers} define/mount/start/stop/remove cycles and {@code elements} nft and route samples. */
    void measure(int containers, int elements) throws Exception {
        cleanup();
        for (int i = 0; i < containers; i++) {
            String name = PREFIX + "-" + i;
            Path dir = workDir.resolve(name);
            long t0 = System.nanoTime();
            Path root = mountOverlay(dir);
            long t1 = System.nanoTime();
            Domain d = libvirt.domainDefineXML(DomainXml.domain(new DomainSpec(name, name, root,
                    MacAddress.parseLoose(String.format("02:00:00:ff:00:%02x", i % 256)), PREFIX.substring(0, 4) + "f" + i, 256),
                    network));
            long t2 = System.nanoTime();
            d.create();
            int init = initPid(name);
            long t3 = System.nanoTime();
            mount.add((t1 - t0) / 1e6);
            define.add((t2 - t1) / 1e6);
            start.add((t3 - t2) / 1e6);
            addStart.add((t3 - t0) / 1e6);
            // Untimed: the agent's own step. Unplaced, pid 1's script spins up to 5 s before it
            // places itself and boots systemd: the graceful stop measured that, not systemd's.
            InitCgroupPlacement.place(init);
            if (i == 0) {
                measureElements(init, elements);
            }
            stop.time(() -> stopGracefully(d, init));
            remove.time(() -> {
                try {
                    d.undefine();
                } catch (LibvirtException e) {
                    throw new IllegalStateException(e);
                }
                ProcessRunner.run(List.of("umount", dir.resolve("rootfs").toString()));
                ProcessRunner.run(List.of("rm", "-rf", "--one-file-system", dir.toString()));
            });
            d.free(); // as the agent: libvirt-java's finalizer must not free it during a call on it
        }
    }

    private Path mountOverlay(Path dir) throws IOException {
        Files.createDirectories(dir.resolve("upper"));
        Files.createDirectories(dir.resolve("work"));
        Path root = Files.createDirectories(dir.resolve("rootfs"));
        ProcessRunner.run(List.of("mount", "-t", "overlay", "overlay", "-o", "lowerdir=" + imageRootfs + ",upperdir="
                + dir.resolve("upper") + ",workdir=" + dir.resolve("work"), root.toString()));
        return root;
    }

    /** The element primitives again, in a running container of the topology being measured. */
    static Floor elementsIn(int init, int samples) throws LibvirtException {
        Floor f = new Floor(null, null, null, false);
        f.measureElements(init, samples);
        return f;
    }

    void measureElements(int init, int samples) {
        ProcessRunner.run(List.of("nft", "-f", "-"), "table inet " + TABLE + " {\n set links { type ifname . ifname; } \n}\n");
        for (int s = 0; s < samples; s++) {
            String element = "{ \"ivqf" + s + "\" . \"ivqg" + s + "\" }";
            nftAdd.time(() -> ProcessRunner.run(List.of("nft", "add", "element", "inet", TABLE, "links", element)));
            nftDelete.time(() -> ProcessRunner.run(List.of("nft", "delete", "element", "inet", TABLE, "links", element)));
        }
        for (int r = 0; r < BULK_ROUNDS; r++) {
            StringBuilder batch = new StringBuilder(BULK * 60);
            for (int s = 0; s < BULK / 2; s++) {
                batch.append("add element inet ").append(TABLE).append(" links { \"ivqf").append(s).append("\" . \"ivqg")
                        .append(s).append("\" }\n");
            }
            for (int s = 0; s < BULK / 2; s++) {
                batch.append("delete element inet ").append(TABLE).append(" links { \"ivqf").append(s).append("\" . \"ivqg")
                        .append(s).append("\" }\n");
            }
            long t0 = System.nanoTime();
            ProcessRunner.run(List.of("nft", "-f", "-"), batch.toString());
            nftBulk.add((System.nanoTime() - t0) / 1e6 / BULK);
        }
        ProcessRunner.run(List.of("nft", "delete", "table", "inet", TABLE));
        String pid = Integer.toString(init);
        // the agent brings eth0 up when it configures a started container; not part of a route's cost
        ProcessRunner.run(List.of("nsenter", "-t", pid, "-n", "ip", "link", "set", "eth0", "up"));
        for (int s = 0; s < samples; s++) {
            String route = "10.254." + (s / 250) + "." + (s % 250 + 1) + "/32";
            routeAdd.time(() -> ProcessRunner.run(List.of("nsenter", "-t", pid, "-n", "ip", "route", "add", route, "dev", "eth0")));
            routeDelete.time(() -> ProcessRunner.run(List.of("nsenter", "-t", pid, "-n", "ip", "route", "del", route, "dev", "eth0")));
        }
        for (int r = 0; r < BULK_ROUNDS; r++) {
            StringBuilder batch = new StringBuilder(BULK * 40);
            for (int s = 0; s < BULK / 2; s++) {
                batch.append("route add 10.253.").append(s / 250).append('.').append(s % 250 + 1).append("/32 dev eth0\n");
            }
            for (int s = 0; s < BULK / 2; s++) {
                batch.append("route del 10.253.").append(s / 250).append('.').append(s % 250 + 1).append("/32 dev eth0\n");
            }
            long t0 = System.nanoTime();
            ProcessRunner.run(List.of("nsenter", "-t", pid, "-n", "ip", "-batch", "-"), batch.toString());
            routeBulk.add((System.nanoTime() - t0) / 1e6 / BULK);
        }
        for (int r = 0; r < BULK_ROUNDS; r++) {
            // in turn, as a container holds one or two addresses: a long address list would cost more per change
            StringBuilder batch = new StringBuilder(BULK * 45);
            for (int s = 0; s < BULK / 2; s++) {
                String address = "10.252." + (s / 250) + "." + (s % 250 + 1) + "/32 dev eth0\n";
                batch.append("address add ").append(address).append("address del ").append(address);
            }
            long t0 = System.nanoTime();
            ProcessRunner.run(List.of("nsenter", "-t", pid, "-n", "ip", "-batch", "-"), batch.toString());
            addressBulk.add((System.nanoTime() - t0) / 1e6 / BULK);
        }
    }

    private static void stopGracefully(Domain d, int init) {
        ProcessRunner.exec(List.of("kill", "-RTMIN+4", Integer.toString(init)), null, 5);
        long deadline = System.nanoTime() + 15_000_000_000L;
        try {
            while (d.isActive() == 1) {
                if (System.nanoTime() > deadline) {
                    d.destroy();
                    return;
                }
                if ((System.nanoTime() / 500_000_000L) % 2 == 0) {
                    // systemd may not handle the signal right after exec: repeat it, as the agent does
                    ProcessRunner.exec(List.of("kill", "-RTMIN+4", Integer.toString(init)), null, 5);
                }
                AgentProcess.sleep(25);
            }
        } catch (LibvirtException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The container's init: the only child of libvirt_lxc, whose pid libvirt writes. */
    static int initPid(String domain) throws IOException {
        Path pidFile = Path.of("/run/libvirt/lxc", domain + ".pid");
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (true) {
            int pid = LxcInitPid.read(pidFile);
            if (pid != 0) {
                return pid;
            }
            if (System.nanoTime() > deadline) {
                throw new IOException("no init process for " + domain);
            }
            AgentProcess.sleep(1);
        }
    }

    /** Removes whatever an interrupted earlier run left. */
    void cleanup() throws LibvirtException {
        for (Domain d : libvirt.listAllDomains(0)) {
            if (d.getName().startsWith(PREFIX + "-")) {
                if (d.isActive() == 1) {
                    d.destroy();
                }
                d.undefine();
            }
            d.free();
        }
        ProcessRunner.exec(List.of("nft", "delete", "table", "inet", TABLE), null, 10);
        if (Files.isDirectory(workDir)) {
            try (var dirs = Files.list(workDir)) {
                for (Path d : dirs.filter(p -> p.getFileName().toString().startsWith(PREFIX)).toList()) {
                    ProcessRunner.exec(List.of("umount", "-l", d.resolve("rootfs").toString()), null, 10);
                    ProcessRunner.run(List.of("rm", "-rf", "--one-file-system", d.toString()));
                }
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }
    }
}
