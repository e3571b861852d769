package dev.intervirt.agent.guest;

import dev.intervirt.agent.container.ContainerService;
import dev.intervirt.agent.dispatch.Progress;
import dev.intervirt.agent.host.Firewall;
import dev.intervirt.agent.protocol.AgentException;
import dev.intervirt.agent.protocol.ErrorCode;
import dev.intervirt.agent.state.ContainerRecord;
import dev.intervirt.agent.state.Topology;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Properties;

/** Guest-wide commands: version, wipe (update, shutdown and reboot come with their issue). */
@ApplicationScoped
public class GuestService {

    private static final String VERSION = readVersion();

    private Topology topology;
    private ContainerService containers;
    private Firewall firewall;

    protected GuestService() {
        // for CDI proxies
    }

    @Inject
    public GuestService(Topology topology, ContainerService containers, Firewall firewall) {
        this.topology = topology;
        this.containers = containers;
        this.firewall = firewall;
    }

    /** The Maven project version of this build. */
    public String version() {
        return VERSION;
    }

    /**
     * Removes every container with its links, forwards and addresses, one progress message per
     * step. A failing step stops the wipe with its reason; a second wipe finishes the job.
     */
    public void wipe(Progress progress) {
        List<ContainerRecord> all = topology.containers();
        int steps = all.size() + 1;
        int done = 0;
        for (ContainerRecord c : all) {
            progress.report((double) done / steps, "Removing container " + c.id());
            containers.remove(c.id(), Progress.NONE);
            done++;
        }
        progress.report((double) done / steps, "Removing firewall elements");
        firewall.flushElements();
        progress.report(1.0, "Wipe finished: " + all.size() + " container(s) removed");
    }

    public void unsupported(String command) {
        throw new AgentException(ErrorCode.UNSUPPORTED, "The command \"" + command + "\" is not supported yet by this agent.");
    }

    private static String readVersion() {
        Properties p = new Properties();
        try (InputStream in = GuestService.class.getResourceAsStream("/dev/intervirt/agent/agent-version.properties")) {
            if (in != null) {
                p.load(in);
            }
        } catch (IOException e) {
            // fall through to "unknown"
        }
        return p.getProperty("version", "unknown");
    }
}
