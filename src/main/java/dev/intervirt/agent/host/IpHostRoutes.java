package dev.intervirt.agent.host;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * {@link HostRoutes} with iproute2: {@code ip route replace ADDR/32 dev BRIDGE} and
 * {@code ip -6 route replace ADDR/128 dev BRIDGE}; removal is {@code ip route del … dev BRIDGE}
 * (only a route through this bridge is ever removed) and an absent route ("No such process")
 * is not an error. One process per call.
 */
public final class IpHostRoutes implements HostRoutes {

    private static final long TIMEOUT_SECONDS = 30;

    private final String bridge;
    private final List<String> prefix;

    public IpHostRoutes(String bridge) {
        this(bridge, List.of());
    }

    /** {@code prefix} is put before {@code ip}, e.g. {@code ip netns exec NAME} (tests). */
    IpHostRoutes(String bridge, List<String> prefix) {
        this.bridge = NftValues.ifname(bridge);
        this.prefix = List.copyOf(prefix);
    }

    @Override
    public void add(InetAddress address) {
        List<String> cmd = command("replace", address);
        ProcessRunner.run(cmd);
    }

    @Override
    public void remove(InetAddress address) {
        List<String> cmd = command("del", address);
        ProcessRunner.Result r = ProcessRunner.exec(cmd, null, TIMEOUT_SECONDS);
        if (!r.ok() && !r.stderr().contains("No such process")) {
            throw new CommandFailedException(cmd, r.exitCode(), r.stderr());
        }
    }

    /** Host routes through the bridge made by {@code ip route replace} (protocol "boot"), both families. */
    @Override
    public java.util.Set<InetAddress> existing() {
        java.util.Set<InetAddress> found = new java.util.HashSet<>();
        for (String family : List.of("-4", "-6")) {
            List<String> cmd = new ArrayList<>(prefix);
            cmd.addAll(List.of("ip", family, "route", "show", "dev", bridge, "proto", "boot"));
            ProcessRunner.Result r = ProcessRunner.exec(cmd, null, TIMEOUT_SECONDS);
            if (!r.ok()) {
                continue; // no bridge yet: no routes
            }
            for (String line : r.stdout().split("\n")) {
                String dst = line.trim().split("[ /]")[0];
                if (!dst.isEmpty() && !dst.equals("default")) {
                    try {
                        found.add(InetAddress.getByName(dst));
                    } catch (java.net.UnknownHostException e) {
                        // not an address literal: not one of ours
                    }
                }
            }
        }
        return found;
    }

    /** One {@code ip -batch} for all of them. */
    @Override
    public void addAll(List<? extends InetAddress> addresses) {
        StringBuilder script = new StringBuilder();
        addresses.forEach(a -> script.append(batchLine("replace", a)));
        runBatch(script.toString());
    }

    /** One {@code ip -batch}; each route is replaced first, so that an absent one is no error. */
    @Override
    public void removeAll(List<? extends InetAddress> addresses) {
        StringBuilder script = new StringBuilder();
        addresses.forEach(a -> script.append(batchLine("replace", a)).append(batchLine("del", a)));
        runBatch(script.toString());
    }

    private void runBatch(String script) {
        if (script.isEmpty()) {
            return;
        }
        List<String> cmd = new ArrayList<>(prefix);
        cmd.addAll(List.of("ip", "-batch", "-"));
        ProcessRunner.run(cmd, script);
    }

    /** One {@code ip -batch}: replace the new route, then replace-and-delete the old one (idempotent). */
    @Override
    public void move(InetAddress oldAddress, InetAddress newAddress) {
        String script = batchLine("replace", newAddress) + batchLine("replace", oldAddress) + batchLine("del", oldAddress);
        List<String> cmd = new ArrayList<>(prefix);
        cmd.addAll(List.of("ip", "-batch", "-"));
        ProcessRunner.run(cmd, script);
    }

    /** A batch line; the family follows from the address (batch lines take no -4/-6). */
    private String batchLine(String verb, InetAddress address) {
        List<String> argv = command(verb, address);
        return String.join(" ", argv.subList(prefix.size() + 2, argv.size())) + "\n";
    }

    List<String> command(String verb, InetAddress address) {
        Objects.requireNonNull(address, "address");
        List<String> cmd = new ArrayList<>(prefix);
        if (address instanceof Inet4Address a) {
            cmd.addAll(List.of("ip", "-4", "route", verb, NftValues.ipv4(a) + "/32", "dev", bridge));
        } else if (address instanceof Inet6Address a) {
            cmd.addAll(List.of("ip", "-6", "route", verb, NftValues.ipv6(a) + "/128", "dev", bridge));
        } else {
            throw new IllegalArgumentException("unsupported address type: " + address.getClass());
        }
        return cmd;
    }
}
