package dev.intervirt.agent.host;

import dev.intervirt.agent.value.MacAddress;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;

/** The container runtime: libvirt LXC domains on the agent's virtual network. */
public interface Hypervisor {

    /**
     * What a container's domain is made of. {@code toolsDir}: the agent's read-only tools that
     * every computer mounts (SFTP server, see dev.intervirt.agent.ssh.ComputerTools), or null.
     * {@code dockerData} is set for a computer whose root has Docker: the host directory mounted
     * at its {@code /var/lib/docker}, and the domain gets what Docker needs (see
     * {@link DomainXml}); null for every other computer.
     */
    record DomainSpec(String name, String containerId, Path rootfs, MacAddress mac, String hostPort,
                      long memoryMiB, Path toolsDir, Path dockerData) {

        public DomainSpec(String name, String containerId, Path rootfs, MacAddress mac, String hostPort, long memoryMiB) {
            this(name, containerId, rootfs, mac, hostPort, memoryMiB, null, null);
        }

        public boolean docker() {
            return dockerData != null;
        }
    }

    /** Opens the connection now (a start without the runtime fails fast), and keeps it open. */
    default void connect() {
    }

    /** Stops delivering events; the containers keep running. */
    default void close() {
    }

    /** The name of the domain of a container (the agent's prefix and the id). */
    String domainName(String containerId);

    /** The container id of one of the agent's domains. */
    String containerIdOf(String domainName);

    /**
     * Defines (and starts, with autostart) the agent's virtual network if it is not there, and
     * restarts it when libvirt calls it active but its bridge is gone (deleted underneath).
     */
    void ensureNetwork();

    /** Whether the agent's network is active with its bridge in place (cheap: called every few seconds). */
    default boolean networkIntact() {
        return true;
    }

    /** Defines a persistent, stopped domain; fails if a domain of that name exists. */
    void define(DomainSpec spec);

    /** Writes the definition of an existing, stopped domain again (takes effect at its next start). */
    void redefine(DomainSpec spec);

    /** Removes the domain's definition; no error if it does not exist. */
    void undefine(String name);

    boolean exists(String name);

    boolean isRunning(String name);

    /**
     * Starts the domain and returns the pid of its init process (as seen from the guest) once
     * that runs the image's own init. {@code withInit} gets the pid as soon as it is known, before
     * that wait: work on the container's namespaces and limits overlaps it. A failure of
     * {@code withInit} is the start's failure (the domain keeps running: the caller's undo stops it).
     */
    int start(String name, java.util.function.IntConsumer withInit);

    /** The pid of a running domain's init process. */
    int initPid(String name);

    /**
     * Asks init to shut down, waits up to {@code grace}, then stops the domain hard.
     * Returns true when init finished on its own. No error if the domain is not running.
     */
    boolean stop(String name, Duration grace);

    /** Names of all domains the agent owns (running or not). */
    Set<String> ownedDomains();

    /** What happened to a domain, as far as the agent cares. */
    enum StartKind {
        /** started (by anyone, the agent included) */
        STARTED,
        /** rebooted from inside: libvirt restarts it with a new init */
        REBOOTED
    }

    /**
     * Calls {@code listener} with the domain name whenever one of the agent's domains starts or
     * reboots from inside. Called on libvirt's event thread: hand the work off, never block.
     */
    void onDomainStarted(java.util.function.BiConsumer<String, StartKind> listener);
}
