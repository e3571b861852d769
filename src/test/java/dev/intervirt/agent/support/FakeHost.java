package dev.intervirt.agent.support;

import dev.intervirt.agent.host.ContainerNetns;
import dev.intervirt.agent.host.Firewall;
import dev.intervirt.agent.host.HostRoutes;
import dev.intervirt.agent.host.Hypervisor;
import dev.intervirt.agent.value.HostAddresses;
import dev.intervirt.agent.value.MacAddress;
import dev.intervirt.agent.value.Protocol;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * In-memory stand-ins for the host adapters, for unit and CDI tests. They record what they
 * were asked, so a test can check the service layer's calls; they prove nothing about the host.
 */
public final class FakeHost {

    private FakeHost() {
    }

    /** Domains as a map name → running. */
    public static final class FakeHypervisor implements Hypervisor {
        public final Map<String, Boolean> domains = new ConcurrentHashMap<>();
        public final Map<String, DomainSpec> specs = new ConcurrentHashMap<>();
        public volatile RuntimeException failDefine;

        @Override
        public String domainName(String containerId) {
            return "fake-" + containerId;
        }

        @Override
        public String containerIdOf(String domainName) {
            return domainName.substring("fake-".length());
        }

        @Override
        public void ensureNetwork() {
        }

        @Override
        public void define(DomainSpec spec) {
            if (failDefine != null) {
                throw failDefine;
            }
            domains.put(spec.name(), false);
            specs.put(spec.name(), spec);
        }

        @Override
        public void redefine(DomainSpec spec) {
            if (!domains.containsKey(spec.name())) {
                throw new IllegalStateException("no domain " + spec.name());
            }
            specs.put(spec.name(), spec);
        }

        @Override
        public void undefine(String name) {
            domains.remove(name);
            specs.remove(name);
        }

        @Override
        public boolean exists(String name) {
            return domains.containsKey(name);
        }

        @Override
        public boolean isRunning(String name) {
            return Boolean.TRUE.equals(domains.get(name));
        }

        @Override
        public int start(String name, java.util.function.IntConsumer withInit) {
            domains.put(name, true);
            int pid = (int) ProcessHandle.current().pid();
            withInit.accept(pid);
            return pid;
        }

        @Override
        public int initPid(String name) {
            return (int) ProcessHandle.current().pid();
        }

        @Override
        public boolean stop(String name, Duration grace) {
            domains.computeIfPresent(name, (k, v) -> false);
            return true;
        }

        @Override
        public Set<String> ownedDomains() {
            return Set.copyOf(domains.keySet());
        }

        @Override
        public void onDomainStarted(java.util.function.BiConsumer<String, StartKind> listener) {
        }
    }

    /** Records every call as a line such as {@code link ivc1 ivc2}. */
    public static final class FakeFirewall implements Firewall {
        public final List<String> calls = new CopyOnWriteArrayList<>();
        public final Set<String> links = ConcurrentHashMap.newKeySet();
        public final Map<String, String> forwards = new ConcurrentHashMap<>();

        @Override
        public void install() {
            calls.add("install");
        }

        @Override
        public void uninstall() {
            calls.add("uninstall");
        }

        @Override
        public void flushElements() {
            calls.add("flush");
            links.clear();
            forwards.clear();
        }

        @Override
        public void addPort(String port, MacAddress mac, Inet4Address ipv4, Inet6Address ipv6) {
            calls.add("addPort " + port);
        }

        @Override
        public void removePort(String port, MacAddress mac, Inet4Address ipv4, Inet6Address ipv6) {
            calls.add("removePort " + port);
        }

        @Override
        public void link(String a, String b) {
            calls.add("link " + a + " " + b);
            links.add(pair(a, b));
        }

        @Override
        public void unlink(String a, String b) {
            calls.add("unlink " + a + " " + b);
            links.remove(pair(a, b));
        }

        /** Links are undirected: one key for both orders. */
        private static String pair(String a, String b) {
            return a.compareTo(b) < 0 ? a + "-" + b : b + "-" + a;
        }

        @Override
        public void setInternet(Inet4Address ipv4, Inet6Address ipv6, boolean enabled) {
            calls.add("internet " + ipv4.getHostAddress() + " " + enabled);
        }

        @Override
        public void addForward(Protocol protocol, int externalPort, Inet4Address target, int internalPort) {
            calls.add("forward " + protocol.wireName() + "/" + externalPort);
            forwards.put(protocol.wireName() + "/" + externalPort, target.getHostAddress() + ":" + internalPort);
        }

        @Override
        public void removeForward(Protocol protocol, int externalPort) {
            calls.add("unforward " + protocol.wireName() + "/" + externalPort);
            forwards.remove(protocol.wireName() + "/" + externalPort);
        }
    }

    public static final class FakeNetns implements ContainerNetns {
        public final List<String> calls = new CopyOnWriteArrayList<>();
        /** The init pids whose namespace handle was let go, apart from {@link #calls}. */
        public final List<Integer> released = new CopyOnWriteArrayList<>();

        @Override
        public void release(int initPid) {
            released.add(initPid);
        }

        @Override
        public void configure(int initPid, HostAddresses addresses, Collection<Peer> peers, boolean internet) {
            calls.add("configure " + addresses.ipv4().getHostAddress() + " peers=" + peers.size() + " internet=" + internet);
        }

        @Override
        public void addPeer(int initPid, Peer peer) {
            calls.add("addPeer " + peer.ipv4().getHostAddress());
        }

        @Override
        public void removePeer(int initPid, Peer peer) {
            calls.add("removePeer " + peer.ipv4().getHostAddress());
        }

        @Override
        public void setInternet(int initPid, boolean enabled) {
            calls.add("internet " + enabled);
        }

        @Override
        public void replaceIpv4(int initPid, Inet4Address oldAddress, Inet4Address newAddress) {
            calls.add("ipv4 " + oldAddress.getHostAddress() + " -> " + newAddress.getHostAddress());
        }

        @Override
        public void replaceIpv6(int initPid, Inet6Address oldAddress, Inet6Address newAddress) {
            calls.add("ipv6 " + oldAddress.getHostAddress() + " -> " + newAddress.getHostAddress());
        }
    }

    public static final class FakeRoutes implements HostRoutes {
        public final Set<InetAddress> routes = ConcurrentHashMap.newKeySet();

        @Override
        public void add(InetAddress address) {
            routes.add(address);
        }

        @Override
        public void remove(InetAddress address) {
            routes.remove(address);
        }
    }
}
