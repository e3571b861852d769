package dev.intervirt.agent.host;

import com.sun.jna.LastErrorException;

import java.io.IOException;
import java.util.List;
import java.util.Optional;
import java.util.logging.Logger;
import java.util.stream.Collectors;

/**
 * Makes moving a process between cgroups cheap. By default the kernel waits for an RCU grace
 * period on every such move that follows a quiet moment: 5.7 ms (p50, up to 15) per move on a
 * 2-CPU host, and a container start makes several (libvirt's own placement, then
 * {@link InitCgroupPlacement}'s two). The cgroup2 option {@value #OPTION} trades that wait for
 * slightly dearer forks and exits (0.27 ms per move then). It acts on the lock every hierarchy
 * shares, so the v1 hierarchies of a hybrid host gain as well. Linux 6.0 and later.
 * <p>
 * libvirt mounts cgroup2 for every container it starts, which resets the hierarchy's options.
 * On this project's 6.18 build machines the faster moves stay all the same (the kernel cannot turn
 * them off again until the next boot: it says so once in dmesg); on kernels that still can, the
 * first container start ends them, and only the boot parameter {@code cgroup_favordynmods=true}
 * (Linux 6.7 and later) keeps them for good.
 */
public final class CgroupMigrations {

    static final String OPTION = "favordynmods";
    private static final Logger LOG = Logger.getLogger(CgroupMigrations.class.getName());

    private CgroupMigrations() {
    }

    /**
     * Remounts the cgroup2 file system with its current options plus {@value #OPTION} (what
     * {@code mount -o remount,favordynmods} does), unless it has it. Never fails the agent: a
     * kernel without the option, or no cgroup2 at all, leaves starts as they were. Returns what it
     * found or did, in words.
     */
    public static String favorMoves() {
        List<MountTable.Entry> mounts;
        try {
            mounts = MountTable.read();
        } catch (IOException e) {
            return log("mount table unreadable (" + e.getMessage() + "); cgroup moves left as they are");
        }
        Optional<MountTable.Entry> cgroup2 = cgroup2(mounts);
        if (cgroup2.isEmpty()) {
            return log("no cgroup2 mount; cgroup moves left as they are");
        }
        MountTable.Entry m = cgroup2.get();
        if (m.superOptions().contains(OPTION)) {
            return log("cgroup2 at " + m.mountPoint() + " already has " + OPTION);
        }
        try {
            MountSyscall.mount(m.source(), m.mountPoint(), "cgroup2", MountSyscall.MS_REMOUNT, remountOptions(m.superOptions()));
        } catch (LastErrorException e) {
            return log("cgroup2 at " + m.mountPoint() + " refused " + OPTION + " (errno " + e.getErrorCode()
                    + "); every cgroup move of a start may wait for an RCU grace period");
        }
        return log("cgroup2 at " + m.mountPoint() + " remounted with " + OPTION + ": cgroup moves need not wait for an RCU"
                + " grace period (libvirt's container starts reset the option; kernels that can switch it off then do)");
    }

    /** The first cgroup2 mount: there is one cgroup2 hierarchy, however often it is mounted. */
    static Optional<MountTable.Entry> cgroup2(List<MountTable.Entry> mounts) {
        return mounts.stream().filter(m -> m.type().equals("cgroup2")).findFirst();
    }

    /**
     * The options of the remount: everything the hierarchy has now (a remount sets all of its
     * flags: nsdelegate left out would be switched off), the generic rw/ro aside, plus ours.
     */
    static String remountOptions(List<String> superOptions) {
        String kept = superOptions.stream().filter(o -> !o.equals("rw") && !o.equals("ro") && !o.isBlank())
                .collect(Collectors.joining(","));
        return kept.isEmpty() ? OPTION : kept + "," + OPTION;
    }

    private static String log(String what) {
        LOG.info(what);
        return what;
    }
}
