package dev.intervirt.agent.support;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Cleans the host of what a test agent made, by its names only, so that a test tolerates the
 * leftovers of an earlier run. Shared by the standalone tests and the WAR test.
 */
public final class HostWipe {

    private HostWipe() {
    }

    /**
     * Removes every host object an agent with this owner name, port prefix and state directory
     * may have made: domains, mounts, files, nftables tables, pids cgroups, network, interfaces.
     */
    public static void wipe(String owner, String portPrefix, Path stateDir) {
        String list = HostCommands.sh("virsh", "-c", "lxc:///system", "list", "--all", "--name").stdout();
        for (String name : list.split("\n")) {
            name = name.trim();
            if (name.startsWith(owner + "-")) {
                HostCommands.sh("virsh", "-c", "lxc:///system", "destroy", name);
                HostCommands.sh("virsh", "-c", "lxc:///system", "undefine", name);
            }
        }
        if (Files.isDirectory(stateDir.resolve("containers"))) {
            try (var dirs = Files.list(stateDir.resolve("containers"))) {
                for (Path d : dirs.toList()) {
                    HostCommands.sh("umount", "-l", d.resolve("rootfs").toString());
                }
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }
        HostCommands.sh("rm", "-rf", "--one-file-system", stateDir.toString());
        for (String family : List.of("bridge", "inet", "ip", "ip6")) {
            HostCommands.sh("nft", "delete", "table", family, owner);
        }
        // Cgroup trees of the owner's containers that libvirt left (destroyed from outside the agent).
        HostCommands.sh("sh", "-c", "for d in /sys/fs/cgroup/*/machine/lxc-*-\"$0\"-*.libvirt-lxc; do"
                + " [ -d \"$d\" ] && find \"$d\" -depth -type d -exec rmdir {} + 2>/dev/null; done; true", owner);
        Path pids = Path.of("/sys/fs/cgroup/pids", owner);
        if (Files.isDirectory(pids)) {
            HostCommands.sh("find", pids.toString(), "-depth", "-type", "d", "-exec", "rmdir", "{}", ";");
        }
        HostCommands.sh("virsh", "-c", "lxc:///system", "net-destroy", owner);
        HostCommands.sh("virsh", "-c", "lxc:///system", "net-undefine", owner);
        String links = HostCommands.sh("ip", "-o", "link", "show").stdout();
        for (String line : links.split("\n")) {
            String[] f = line.split(":\\s+");
            if (f.length > 1) {
                String name = f[1].split("@")[0];
                if (ownsLink(portPrefix, name)) {
                    HostCommands.sh("ip", "link", "delete", name);
                }
            }
        }
    }

    /**
     * Exactly the interfaces of an agent with this port prefix: its veths (prefix + slot number)
     * and its bridge (prefix + "br0"). A plain prefix match took the production bridge: the
     * benchmark's prefix "ivb" matched "ivbr0".
     */
    static boolean ownsLink(String portPrefix, String name) {
        return name.equals(portPrefix + "br0") || name.matches(java.util.regex.Pattern.quote(portPrefix) + "[0-9]+");
    }
}
