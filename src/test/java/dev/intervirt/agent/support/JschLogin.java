package dev.intervirt.agent.support;

import com.jcraft.jsch.ChannelExec;
import com.jcraft.jsch.JSch;
import com.jcraft.jsch.JSchException;
import com.jcraft.jsch.Session;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * A JSch password login to a computer's sshd (through a forward), and commands run on an exec
 * channel of it: what the e2e tests, IntervirtosSshIT and DockerOverSsh each wrote out. Host
 * keys are not checked: the test computers make theirs at first boot.
 *
 * @param timeoutMillis for connecting the session and each channel
 */
public record JschLogin(String user, String host, int port, String password, int timeoutMillis) {

    /** No limit on how long a command may run: wait until its channel closes. */
    public static final Duration UNTIL_CLOSED = Duration.ofNanos(Long.MAX_VALUE);

    /** root with the empty password (intervirtos/current) on {@code port} of the loopback. */
    public static JschLogin rootOnLoopback(int port, int timeoutMillis) {
        return new JschLogin("root", "127.0.0.1", port, "", timeoutMillis);
    }

    /** A command's exit status (-1 when it did not end in time) and what it wrote. */
    public record Output(int exit, String out, String err) {
    }

    public Session open() throws JSchException {
        Session session = new JSch().getSession(user, host, port);
        session.setPassword(password);
        session.setConfig("StrictHostKeyChecking", "no");
        session.setConfig("PreferredAuthentications", "password");
        session.connect(timeoutMillis);
        return session;
    }

    /** Logs in, runs {@code command} (waiting up to {@code limit}) and logs out; stdout and stderr apart. */
    public Output run(String command, Duration limit) throws Exception {
        return runOnce(command, limit, false);
    }

    /** Like {@link #run}, with stderr written into {@link Output#out()} as the two came. */
    public Output runMerged(String command, Duration limit) throws Exception {
        return runOnce(command, limit, true);
    }

    private Output runOnce(String command, Duration limit, boolean merged) throws Exception {
        Session session = open();
        try {
            return exec(session, command, timeoutMillis, limit, merged);
        } finally {
            session.disconnect();
        }
    }

    /** Runs {@code command} on a new exec channel of {@code session}, waiting up to {@code limit} for it to end. */
    public static Output exec(Session session, String command, int timeoutMillis, Duration limit, boolean merged) throws Exception {
        ChannelExec channel = (ChannelExec) session.openChannel("exec");
        channel.setCommand(command);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = merged ? out : new ByteArrayOutputStream();
        channel.setOutputStream(out);
        channel.setErrStream(err);
        channel.connect(timeoutMillis);
        long t0 = System.nanoTime();
        // Elapsed time, not a deadline: UNTIL_CLOSED would overflow one.
        while (!channel.isClosed() && System.nanoTime() - t0 < limit.toNanos()) {
            Thread.sleep(20);
        }
        int exit = channel.getExitStatus();
        channel.disconnect();
        return new Output(exit, out.toString(StandardCharsets.UTF_8), merged ? "" : err.toString(StandardCharsets.UTF_8));
    }
}
