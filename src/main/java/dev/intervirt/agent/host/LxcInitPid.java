package dev.intervirt.agent.host;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** A container's init: libvirt_lxc writes its own pid to {@code <domain>.pid}, and init is its only child. */
public final class LxcInitPid {

    private LxcInitPid() {
    }

    /**
     * One look: init's pid, or 0 while libvirt has not written the pid file or the controller has
     * no child yet (callers poll). A pid file that is not a number throws NumberFormatException.
     */
    public static int read(Path pidFile) throws IOException {
        try {
            String controller = Files.readString(pidFile).trim();
            String children = Files.readString(Path.of("/proc", controller, "task", controller, "children")).trim();
            return children.isEmpty() ? 0 : Integer.parseInt(children.split("\\s+")[0]);
        } catch (NoSuchFileException e) {
            return 0; // not written yet
        }
    }
}
