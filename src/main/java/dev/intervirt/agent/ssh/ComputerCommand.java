package dev.intervirt.agent.ssh;

import com.pty4j.PtyProcess;
import com.pty4j.PtyProcessBuilder;
import com.pty4j.WinSize;
import dev.intervirt.agent.concurrent.DaemonThreads;
import org.apache.sshd.server.Environment;
import org.apache.sshd.server.ExitCallback;
import org.apache.sshd.server.Signal;
import org.apache.sshd.server.channel.ChannelSession;
import org.apache.sshd.server.command.Command;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * A shell, command or subsystem of one SSH channel, as a process inside the computer. With a
 * pty request it runs on a real pseudo-terminal (pty4j) that follows the client's window size;
 * without one it gets plain pipes: binary-clean stdin/stdout/stderr, EOF passed on, and the
 * process's exit status as the channel's.
 */
final class ComputerCommand implements Command {

    /** What to run once the computer is known. */
    interface Launch {
        List<String> command(Computer computer) throws IOException;
    }

    private static final Logger LOG = Logger.getLogger(ComputerCommand.class.getName());
    private static final ExecutorService PUMPS = Executors.newCachedThreadPool(DaemonThreads.named("ssh-pump"));

    private final Computer computer;
    private final Launch launch;
    private final boolean allowPty;
    private InputStream in;
    private OutputStream out;
    private OutputStream err;
    private ExitCallback exit;
    private volatile Process process;

    /** @param allowPty false for subsystems (SFTP), which need clean pipes even after a pty-req */
    ComputerCommand(Computer computer, Launch launch, boolean allowPty) {
        this.computer = computer;
        this.launch = launch;
        this.allowPty = allowPty;
    }

    @Override
    public void setInputStream(InputStream in) {
        this.in = in;
    }

    @Override
    public void setOutputStream(OutputStream out) {
        this.out = out;
    }

    @Override
    public void setErrorStream(OutputStream err) {
        this.err = err;
    }

    @Override
    public void setExitCallback(ExitCallback callback) {
        this.exit = callback;
    }

    @Override
    public void start(ChannelSession channel, Environment env) throws IOException {
        List<String> command = launch.command(computer);
        java.util.Map<String, String> vars = ComputerLauncher.environment(env.getEnv());
        String term = env.getEnv().get(Environment.ENV_TERM);
        boolean pty = allowPty && !env.getPtyModes().isEmpty();
        if (pty) {
            vars.put("TERM", term == null || term.isBlank() ? "xterm" : term);
            PtyProcess p = new PtyProcessBuilder(command.toArray(String[]::new)).setEnvironment(vars)
                    .setInitialColumns(size(env, Environment.ENV_COLUMNS, 80))
                    .setInitialRows(size(env, Environment.ENV_LINES, 24))
                    .setConsole(false).setRedirectErrorStream(true).start();
            process = p;
            env.addSignalListener((ch, signal) -> p.setWinSize(new WinSize(size(env, Environment.ENV_COLUMNS, 80),
                    size(env, Environment.ENV_LINES, 24))), Signal.WINCH);
            pump(p.getInputStream(), p.getOutputStream(), null, false);
        } else {
            vars.remove("TERM");
            if (term != null && !term.isBlank()) {
                vars.put("TERM", term);
            }
            ProcessBuilder b = new ProcessBuilder(command);
            b.environment().clear();
            b.environment().putAll(vars);
            Process p = b.start();
            process = p;
            pump(p.getInputStream(), p.getOutputStream(), p.getErrorStream(), true);
        }
        LOG.fine(() -> "ssh: " + (pty ? "pty " : "") + "process in " + computer.id());
    }

    /**
     * Client → process; process → client (stdout, and stderr if separate); then the exit status.
     * The client's EOF closes a pipe (the process reads EOF) but not a pty, whose one descriptor
     * also carries the output (as sshd does).
     */
    private void pump(InputStream fromProcess, OutputStream toProcess, InputStream errorsOfProcess, boolean closeOnEof) {
        Process p = process;
        PUMPS.execute(() -> {
            byte[] buf = new byte[32 * 1024];
            try {
                for (int n; (n = in.read(buf)) >= 0; ) {
                    toProcess.write(buf, 0, n);
                    toProcess.flush();
                }
                if (closeOnEof) {
                    toProcess.close();
                }
            } catch (IOException e) {
                // the process ended or the channel closed
            }
        });
        Future<?> errors = errorsOfProcess == null ? null : PUMPS.submit(() -> copy(errorsOfProcess, err));
        PUMPS.execute(() -> {
            copy(fromProcess, out);
            int status;
            try {
                if (errors != null) {
                    errors.get();
                }
                status = p.waitFor();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                status = 255;
            } catch (java.util.concurrent.ExecutionException e) {
                status = 255;
            }
            exit.onExit(status);
        });
    }

    private static void copy(InputStream from, OutputStream to) {
        byte[] buf = new byte[32 * 1024];
        try {
            for (int n; (n = from.read(buf)) >= 0; ) {
                to.write(buf, 0, n);
                to.flush();
            }
        } catch (IOException e) {
            // EOF of a pty reads as EIO; a closed channel as an error: either way the copy is over
        }
    }

    private static int size(Environment env, String name, int fallback) {
        try {
            int v = Integer.parseInt(env.getEnv().getOrDefault(name, ""));
            return v > 0 && v < 10_000 ? v : fallback;
        } catch (NumberFormatException e) {
            return fallback;
        }
    }

    @Override
    public void destroy(ChannelSession channel) {
        Process p = process;
        if (p != null && p.isAlive()) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        }
        try {
            if (in != null) {
                in.close();
            }
        } catch (IOException e) {
            LOG.log(Level.FINE, "closing channel input", e);
        }
    }
}
