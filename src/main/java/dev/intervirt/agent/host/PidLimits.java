package dev.intervirt.agent.host;

/**
 * Caps the number of processes of one container, so a fork bomb inside cannot exhaust the
 * guest (libvirt's LXC driver sets no pids limit). {@link CgroupPidLimits} does it in the
 * host's cgroups.
 */
public interface PidLimits {

    /** The most processes one container may have. */
    long max();

    /** Applies the limit to the running container whose init is {@code initPid}. */
    void apply(String domain, int initPid);

    /** Removes what {@link #apply} made for a stopped container (no error if absent or busy). */
    void release(String domain);
}
