package dev.intervirt.agent.ssh;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Argument lists that run a process inside a computer, never in the guest: the guest-side chain
 * is {@code sh} (joins the computer's cgroups, so its memory, pids and device limits hold),
 * {@code setpriv} (the computer's capability bounding set, so the process has no capability the
 * computer's own root lacks) and {@code nsenter --all --root --wd} (every namespace and the root
 * of the computer's init). Inside, {@link #INSIDE} finds root's home and login shell in the
 * computer's own /etc/passwd. No client text ever becomes shell code: commands travel as
 * arguments ({@code sh -c "$1"} inside the computer, as sshd does).
 */
final class ComputerLauncher {

    /** Guest side: writes its own pid into each cgroup.procs file given, then execs the rest. */
    static final String JOIN = "n=$1; shift; while [ \"$n\" -gt 0 ]; do echo $$ > \"$1\" || exit 126; shift;"
            + " n=$((n-1)); done; exec \"$@\"";

    /**
     * Inside the computer: root's shell and home from /etc/passwd (else /bin/sh and /root), the
     * home as working directory, then the mode: {@code login} (login shell), {@code exec CMD}
     * (the shell runs CMD), {@code argv PROG ARGS…}.
     */
    static final String INSIDE = String.join("\n",
            "sh=/bin/sh; home=/root",
            "if [ -r /etc/passwd ]; then",
            "  while IFS=: read -r n _ _ _ _ h s; do",
            "    if [ \"$n\" = root ]; then",
            "      if [ -n \"$s\" ] && [ -x \"$s\" ]; then sh=$s; fi",
            "      if [ -n \"$h\" ]; then home=$h; fi",
            "      break",
            "    fi",
            "  done < /etc/passwd",
            "fi",
            "HOME=$home; SHELL=$sh; export HOME SHELL",
            "cd \"$home\" 2>/dev/null || cd /",
            "mode=$1; shift",
            "case $mode in",
            "  login) exec \"$sh\" -l ;;",
            "  exec) exec \"$sh\" -c \"$1\" ;;",
            "  *) if [ ! -e \"$1\" ]; then",
            "       echo \"intervirt: $1 is missing here: this computer was defined before the agent provided it\" >&2",
            "       exit 127",
            "     fi",
            "     exec \"$@\" ;;",
            "esac");

    static final String PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    /**
     * Client variables that would change the GUEST-side helpers (dynamic loader, libc, shells)
     * before the process is inside the computer; sshd refuses most variables for the same reason.
     */
    private static final Pattern UNSAFE_ENV = Pattern.compile(
            "LD_.*|GCONV_PATH|GLIBC_TUNABLES|LOCPATH|NLSPATH|MALLOC_.*|HOSTALIASES|RES_OPTIONS|LOCALDOMAIN"
                    + "|TZDIR|BASH_ENV|ENV|SHELLOPTS|BASHOPTS|IFS|PS4|CDPATH|PATH|HOME|SHELL|USER|LOGNAME"
                    + "|INTERVIRT_.*"); // the agent's own markers (HelperProcesses)
    private static final Pattern NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,127}");

    private ComputerLauncher() {
    }

    static List<String> loginShell(Computer c) throws IOException {
        return inside(c, List.of("login"));
    }

    static List<String> shellCommand(Computer c, String command) throws IOException {
        return inside(c, List.of("exec", command));
    }

    static List<String> program(Computer c, List<String> argv) throws IOException {
        List<String> args = new ArrayList<>();
        args.add("argv");
        args.addAll(argv);
        return inside(c, args);
    }

    private static List<String> inside(Computer c, List<String> modeAndArgs) throws IOException {
        List<String> procs = Cgroups.procsFilesOf(c.initPid());
        List<String> cmd = new ArrayList<>(List.of("/bin/sh", "-c", JOIN, "ivjoin", Integer.toString(procs.size())));
        cmd.addAll(procs);
        cmd.addAll(List.of("setpriv", "--bounding-set", boundingSet(c.initPid()),
                "nsenter", "--target", Integer.toString(c.initPid()), "--all", "--root", "--wd", "--",
                "/bin/sh", "-c", INSIDE, "ivsh"));
        cmd.addAll(modeAndArgs);
        return cmd;
    }

    /** The computer's capability bounding set as setpriv reads it: "-all,+cap_0,+cap_1…". */
    static String boundingSet(int pid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Integer.toString(pid), "status"))) {
            if (line.startsWith("CapBnd:")) {
                return boundingSetArg(Long.parseUnsignedLong(line.substring(7).trim(), 16));
            }
        }
        throw new IOException("no CapBnd for pid " + pid);
    }

    static String boundingSetArg(long mask) {
        StringBuilder s = new StringBuilder("-all");
        for (int cap = 0; cap < 64; cap++) {
            if ((mask & (1L << cap)) != 0) {
                s.append(",+cap_").append(cap);
            }
        }
        return s.toString();
    }

    /**
     * The environment of the process: the client's variables that are safe for the guest-side
     * helpers, then the fixed ones (PATH, USER; HOME and SHELL are set inside from /etc/passwd).
     */
    static Map<String, String> environment(Map<String, String> client) {
        Map<String, String> env = new LinkedHashMap<>();
        Set<String> seen = new HashSet<>();
        client.forEach((k, v) -> {
            if (k != null && v != null && NAME.matcher(k).matches() && !UNSAFE_ENV.matcher(k).matches()
                    && v.indexOf('\0') < 0 && seen.add(k)) {
                env.put(k, v);
            }
        });
        env.put("PATH", PATH);
        env.put("USER", "root");
        env.put("LOGNAME", "root");
        env.put("HOME", "/root");
        return env;
    }
}
