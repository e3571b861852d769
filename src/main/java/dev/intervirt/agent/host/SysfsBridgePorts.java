package dev.intervirt.agent.host;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * Reads the ports' state from sysfs (no process: the agent's network watch calls it every few
 * seconds) and plugs a port with {@code ip link} (only when repairing).
 */
public final class SysfsBridgePorts implements BridgePorts {

    private static final Path NET = Path.of("/sys/class/net");
    private final String bridge;

    public SysfsBridgePorts(String bridge) {
        this.bridge = bridge;
    }

    @Override
    public boolean bridgeExists() {
        return Files.isDirectory(NET.resolve(bridge).resolve("bridge"));
    }

    @Override
    public List<String> unplugged(Collection<String> ports) {
        List<String> out = new ArrayList<>();
        for (String port : ports) {
            Path dir = NET.resolve(port);
            if (Files.isDirectory(dir) && !bridge.equals(masterOf(dir))) {
                out.add(port);
            }
        }
        return out;
    }

    private static String masterOf(Path port) {
        try {
            return Files.readSymbolicLink(port.resolve("master")).getFileName().toString();
        } catch (IOException e) {
            return null; // no master: unplugged
        }
    }

    @Override
    public void plug(String port) {
        ProcessRunner.run(List.of("ip", "link", "set", "dev", port, "master", bridge, "up"));
    }
}
