package dev.intervirt.agent.host;

import dev.intervirt.agent.value.HostAddresses;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;

/**
 * {@link ContainerNetns} through {@code nsenter -t PID -n}: only the network namespace is
 * entered, the host's {@code ip} and {@code sysctl} binaries run (the container needs none).
 *
 * <p>Every call is one {@code ip -force -batch -} process (the script on stdin), except
 * {@link #configure}, which takes three: {@code sysctl -w} (all keys in one process; far
 * cheaper than one {@code /proc/sys} write per key, each of which needs its own process in the
 * namespace), the batch above, and an {@code ip -6 -batch} because {@code route flush} in a
 * batch only works for the batch's address family. All lines are idempotent: routes and
 * addresses are {@code replace}d, and a deletion first {@code replace}s what it deletes, so an
 * absent route or address is no error; {@code -force} applies every line and still exits
 * non-zero on a real failure.
 *
 * <p>Routing model inside the container: exactly the registered {@code /32} and {@code /128}
 * on {@code eth0}, on-link routes to the gateways {@value #GATEWAY4} and {@value #GATEWAY6},
 * one on-link host route per connected peer and, only with internet access,
 * {@code default via 169.254.0.1 dev eth0 onlink} and {@code default via fe80::1 dev eth0}.
 * Without internet there is no default route at all ({@code ping 8.8.8.8}: "Network is
 * unreachable").
 */
public final class NsenterNetns implements ContainerNetns {

    public static final String IFACE = "eth0";
    public static final String GATEWAY4 = "169.254.0.1";
    public static final String GATEWAY6 = "fe80::1";

    /** No SLAAC, no router advertisements, no DAD, no temporary addresses, no solicitations. */
    static final List<String> SYSCTLS = List.of(
            "net.ipv6.conf." + IFACE + ".disable_ipv6=0",
            "net.ipv6.conf." + IFACE + ".accept_ra=0",
            "net.ipv6.conf." + IFACE + ".autoconf=0",
            "net.ipv6.conf." + IFACE + ".accept_dad=0",
            "net.ipv6.conf." + IFACE + ".use_tempaddr=0",
            "net.ipv6.conf." + IFACE + ".router_solicitations=0");

    /** Route protocols that can carry routes nobody asked for (ip/libvirt, networkd, RA, DHCP). */
    private static final List<String> FLUSHED_IPV6_PROTOCOLS = List.of("boot", "static", "ra", "dhcp");

    private static final long TIMEOUT_SECONDS = 30;

    @Override
    public void configure(int initPid, HostAddresses addresses, Collection<Peer> peers, boolean internet) {
        Objects.requireNonNull(addresses, "addresses");
        Objects.requireNonNull(peers, "peers");
        List<String> sysctl = nsenter(initPid, "sysctl", "-q", "-w");
        sysctl.addAll(SYSCTLS);
        ProcessRunner.run(sysctl);
        batch(initPid, false, configureScript(addresses, peers, internet));
        batch(initPid, true, configureIpv6RoutesScript(peers, internet));
    }

    @Override
    public void addPeer(int initPid, Peer peer) {
        batch(initPid, false, addPeerScript(peer));
    }

    @Override
    public void removePeer(int initPid, Peer peer) {
        batch(initPid, false, removePeerScript(peer));
    }

    @Override
    public void setInternet(int initPid, boolean enabled) {
        batch(initPid, false, internetScript(enabled));
    }

    @Override
    public void replaceIpv4(int initPid, Inet4Address oldAddress, Inet4Address newAddress) {
        batch(initPid, false, replaceIpv4Script(oldAddress, newAddress));
    }

    @Override
    public void replaceIpv6(int initPid, Inet6Address oldAddress, Inet6Address newAddress) {
        batch(initPid, false, replaceIpv6Script(oldAddress, newAddress));
    }

    @Override
    public void replacePeer(int initPid, Peer oldPeer, Peer newPeer) {
        batch(initPid, false, removePeerScript(oldPeer.without(newPeer)) + addPeerScript(newPeer.without(oldPeer)));
    }

    // ------------------------------------------------------------------ scripts (package-private for tests)

    /**
     * Link, addresses and IPv4 routes. Order matters: removing the last IPv4 address of a
     * device makes the kernel drop every IPv4 route through it, so addresses come first.
     */
    static String configureScript(HostAddresses addresses, Collection<Peer> peers, boolean internet) {
        StringBuilder s = new StringBuilder(512);
        String mac = addresses.mac() == null ? "" : " address " + NftValues.mac(addresses.mac());
        line(s, "link set dev " + IFACE + mac + " up");
        line(s, "address flush dev " + IFACE + " to 0.0.0.0/0");
        line(s, "address flush dev " + IFACE + " scope global");
        line(s, "route flush dev " + IFACE);
        if (addresses.ipv4() != null) {
            line(s, "address add " + NftValues.ipv4(addresses.ipv4()) + "/32 dev " + IFACE);
        }
        if (addresses.ipv6() != null) {
            line(s, "address add " + NftValues.ipv6(addresses.ipv6()) + "/128 dev " + IFACE + " nodad");
        }
        line(s, "route replace " + GATEWAY4 + "/32 dev " + IFACE + " scope link");
        for (Peer p : peers) {
            if (p.ipv4() != null) {
                line(s, peerRoute4("replace", p.ipv4()));
            }
        }
        if (internet) {
            line(s, defaultRoute4("replace"));
        }
        return s.toString();
    }

    /** For {@code ip -6 -batch}: drop every non-kernel IPv6 route of eth0, then add ours. */
    static String configureIpv6RoutesScript(Collection<Peer> peers, boolean internet) {
        StringBuilder s = new StringBuilder(256);
        for (String proto : FLUSHED_IPV6_PROTOCOLS) {
            line(s, "route flush dev " + IFACE + " proto " + proto);
        }
        line(s, "route replace " + GATEWAY6 + "/128 dev " + IFACE);
        for (Peer p : peers) {
            if (p.ipv6() != null) {
                line(s, peerRoute6("replace", p.ipv6()));
            }
        }
        if (internet) {
            line(s, defaultRoute6("replace"));
        }
        return s.toString();
    }

    static String addPeerScript(Peer peer) {
        Objects.requireNonNull(peer, "peer");
        StringBuilder s = new StringBuilder(128);
        if (peer.ipv4() != null) {
            line(s, peerRoute4("replace", peer.ipv4()));
        }
        if (peer.ipv6() != null) {
            line(s, peerRoute6("replace", peer.ipv6()));
        }
        return s.toString();
    }

    static String removePeerScript(Peer peer) {
        Objects.requireNonNull(peer, "peer");
        StringBuilder s = new StringBuilder(128);
        if (peer.ipv4() != null) {
            line(s, peerRoute4("replace", peer.ipv4()));
            line(s, peerRoute4("del", peer.ipv4()));
        }
        if (peer.ipv6() != null) {
            line(s, peerRoute6("replace", peer.ipv6()));
            line(s, peerRoute6("del", peer.ipv6()));
        }
        return s.toString();
    }

    static String internetScript(boolean enabled) {
        StringBuilder s = new StringBuilder(192);
        line(s, defaultRoute4("replace"));
        line(s, defaultRoute6("replace"));
        if (!enabled) {
            line(s, defaultRoute4("del"));
            line(s, defaultRoute6("del"));
        }
        return s.toString();
    }

    /** New address first: deleting the last IPv4 address would take every IPv4 route with it. */
    static String replaceIpv4Script(Inet4Address oldAddress, Inet4Address newAddress) {
        StringBuilder s = new StringBuilder(128);
        String dev = "/32 dev " + IFACE;
        if (newAddress != null) {
            line(s, "address replace " + NftValues.ipv4(newAddress) + dev);
        }
        if (oldAddress != null && !oldAddress.equals(newAddress)) {
            line(s, "address replace " + NftValues.ipv4(oldAddress) + dev);
            line(s, "address del " + NftValues.ipv4(oldAddress) + dev);
        }
        return s.toString();
    }

    static String replaceIpv6Script(Inet6Address oldAddress, Inet6Address newAddress) {
        StringBuilder s = new StringBuilder(128);
        String dev = "/128 dev " + IFACE;
        if (newAddress != null) {
            line(s, "address replace " + NftValues.ipv6(newAddress) + dev + " nodad");
        }
        if (oldAddress != null && !oldAddress.equals(newAddress)) {
            line(s, "address replace " + NftValues.ipv6(oldAddress) + dev + " nodad");
            line(s, "address del " + NftValues.ipv6(oldAddress) + dev);
        }
        return s.toString();
    }

    private static String peerRoute4(String verb, Inet4Address a) {
        return "route " + verb + " " + NftValues.ipv4(a) + "/32 dev " + IFACE + " scope link";
    }

    private static String peerRoute6(String verb, Inet6Address a) {
        return "route " + verb + " " + NftValues.ipv6(a) + "/128 dev " + IFACE;
    }

    private static String defaultRoute4(String verb) {
        return "route " + verb + " 0.0.0.0/0 via " + GATEWAY4 + " dev " + IFACE + " onlink";
    }

    private static String defaultRoute6(String verb) {
        return "route " + verb + " ::/0 via " + GATEWAY6 + " dev " + IFACE;
    }

    // ------------------------------------------------------------------ helpers

    static List<String> nsenter(int pid, String... command) {
        requireForeignNetns(pid);
        List<String> cmd = new ArrayList<>(List.of("nsenter", "-t", Integer.toString(pid), "-n", "--"));
        cmd.addAll(List.of(command));
        return cmd;
    }

    /**
     * Refuses a pid whose network namespace is the agent's own (pid 1, the agent itself, a
     * mistaken id): configure() flushes eth0, which must never hit the guest's own interface.
     */
    static void requireForeignNetns(int pid) {
        if (pid <= 1) {
            throw new IllegalArgumentException("not a container init pid: " + pid);
        }
        try {
            Path own = Files.readSymbolicLink(Path.of("/proc/self/ns/net"));
            Path target = Files.readSymbolicLink(Path.of("/proc", Integer.toString(pid), "ns", "net"));
            if (own.equals(target)) {
                throw new IllegalArgumentException("pid " + pid + " is in the agent's own network namespace");
            }
        } catch (NoSuchFileException e) {
            // A container that stopped between the look-up of its init and now.
            throw HostException.unavailable("The container's init (pid " + pid + ") is gone: the container stopped meanwhile.");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void batch(int pid, boolean ipv6Family, String script) {
        if (script.isEmpty()) {
            return;
        }
        List<String> cmd = ipv6Family
                ? nsenter(pid, "ip", "-6", "-force", "-batch", "-")
                : nsenter(pid, "ip", "-force", "-batch", "-");
        ProcessRunner.Result r = ProcessRunner.exec(cmd, script, TIMEOUT_SECONDS);
        if (!r.ok()) {
            throw new CommandFailedException(cmd, r.exitCode(), r.stderr() + " [script: " + script.strip().replace('\n', ';') + "]");
        }
    }

    private static void line(StringBuilder s, String line) {
        s.append(line).append('\n');
    }
}
