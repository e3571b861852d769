package dev.intervirt.agent.image;

import dev.intervirt.agent.host.ProcessRunner;
import dev.intervirt.agent.value.ImageName;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.logging.Logger;

/**
 * Images built on this machine by the project's builder ({@code scripts/build-image.sh NAME}):
 * {@code debian/<release>} with debootstrap and {@code intervirtos/current}. The builder is
 * atomic and cached itself (temporary directory, rename when complete).
 */
public class BuilderImageSource implements ImageSource {

    private static final Logger LOG = Logger.getLogger(BuilderImageSource.class.getName());
    private static final long TIMEOUT_SECONDS = 3600;

    private final List<String> command;
    private final ImageStore store;

    public BuilderImageSource(List<String> command, ImageStore store) {
        this.command = List.copyOf(command);
        this.store = store;
    }

    @Override
    public String describe() {
        return "local builder " + String.join(" ", command);
    }

    @Override
    public boolean mayHave(ImageName name) {
        return name.distribution().equals("debian") || name.toString().equals("intervirtos/current");
    }

    @Override
    public boolean provide(ImageName name) {
        if (!mayHave(name)) {
            return false;
        }
        ImageName target = ImageStore.canonical(name);
        List<String> argv = new ArrayList<>(command);
        argv.add(target.toString());
        LOG.info("image " + name + ": building with " + String.join(" ", argv));
        Map<String, String> env = new java.util.HashMap<>(Map.of("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "LC_ALL", "C", "INTERVIRT_IMAGE_DIR", store.imageDir().toString()));
        String mirror = System.getenv("INTERVIRT_DEBIAN_MIRROR");
        if (mirror != null && !mirror.isBlank()) {
            env.put("INTERVIRT_DEBIAN_MIRROR", mirror);
        }
        ProcessRunner.Result r = ProcessRunner.execLines(argv, env, line -> LOG.info("image " + name + ": " + line),
                TIMEOUT_SECONDS, true);
        if (!r.ok() || !store.isReady(target)) {
            throw new ImageSourceException("building " + target + " failed (exit " + r.exitCode() + ")");
        }
        LOG.info("image " + name + ": built");
        return true;
    }
}
