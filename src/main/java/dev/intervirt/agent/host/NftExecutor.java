package dev.intervirt.agent.host;

import dev.intervirt.agent.host.netlink.Namespaces;
import dev.intervirt.agent.host.netlink.NetlinkException;
import dev.intervirt.agent.host.netlink.NetlinkSocket;
import dev.intervirt.agent.host.netlink.NfTables;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Where the firewall's tables live: runs one nft script as one atomic transaction
 * ({@code nft -f -}, the script on stdin) and sets the few sysctls the firewall needs, both in
 * the same network namespace. Replaceable so that unit tests can capture the scripts and
 * integration tests can run a whole "guest" inside a network namespace of its own.
 */
interface NftExecutor {

    long TIMEOUT_SECONDS = 30;

    /**
     * {@code nft -e} prints this line once the transaction is committed. After that, nft's exit
     * can take ~15 ms more when the batch deleted set elements (closing its netlink socket
     * waits for the kernel to free them), so callers continue at the line, not at the exit.
     */
    String COMMITTED = "# new generation";

    /** Ends a long-lived session, if there is one; later scripts start a new one. */
    default void close() {
    }

    /** Runs the script; returns the result whatever the exit code. */
    ProcessRunner.Result run(String script);

    /** Runs set-element changes as one transaction; here as their nft script. */
    default ProcessRunner.Result runElements(SetElementChanges changes) {
        return run(changes.script());
    }

    /**
     * Sets {@code /proc/sys/<path>} to {@code value}; {@code path} uses '/' separators (interface
     * names may contain dots). Returns false when the entry does not exist (e.g. no such
     * interface yet); throws on any other failure.
     */
    boolean sysctl(String path, String value);

    /** The agent's own network namespace, one-shot {@code nft} only (no session). */
    static NftExecutor local() {
        return local(null);
    }

    /**
     * The agent's own network namespace: {@link #runElements} over an nfnetlink socket kept
     * open; scripts of set-element changes only, and the table
     * names' listing ({@code list tables}), go through libnftables in-process ({@link NftLibrary},
     * one context kept open) or, for element changes where the library
     * cannot be loaded, a long-lived {@link NftSession} (its small marker set {@code markerSet},
     * e.g. {@code bridge intervirt seq}); anything else, and any element script the session could
     * not run, through a one-shot {@code nft -f -} (see {@link #oneShot}). Direct writes to /proc/sys.
     */
    static NftExecutor local(String markerSet) {
        NetlinkSocket netfilter = markerSet == null ? null : openNetfilter();
        NftLibrary library = markerSet == null ? null : NftLibrary.load();
        NftSession session = markerSet == null || library != null ? null : new NftSession(List.of(), markerSet);
        return new NftExecutor() {
            @Override
            public void close() {
                if (netfilter != null) {
                    netfilter.close();
                }
                if (library != null) {
                    library.close();
                }
                if (session != null) {
                    session.close();
                }
            }

            /**
             * Straight to the kernel over the agent's nfnetlink socket: one round trip, where nft
             * (in-process or not) first refreshes its cache with six.
             */
            @Override
            public ProcessRunner.Result runElements(SetElementChanges changes) {
                return netfilter == null ? run(changes.script()) : send(netfilter, changes);
            }

            @Override
            public ProcessRunner.Result run(String script) {
                List<String> lines = script.lines().filter(l -> !l.isBlank()).toList();
                boolean elementsOnly = elementsOnly(lines);
                if (library != null && (elementsOnly || tablesListing(lines))) {
                    return library.run(lines);
                }
                if (session != null && elementsOnly) {
                    ProcessRunner.Result r = session.run(lines);
                    if (r.ok() || !r.stderr().startsWith("nft session")) {
                        return r;
                    }
                    // The session itself failed (not the batch): run the batch the slow way.
                }
                return oneShot(List.of(), script, elementsOnly);
            }

            @Override
            public boolean sysctl(String path, String value) {
                Path file = Path.of("/proc/sys").resolve(path);
                try {
                    Files.writeString(file, value);
                    return true;
                } catch (NoSuchFileException e) {
                    return false;
                } catch (IOException e) {
                    throw new CommandFailedException(List.of("write", file.toString()), -1, e.toString());
                }
            }
        };
    }

    /** The changes as one nf_tables transaction over {@code netfilter}; a refusal as a failed result. */
    private static ProcessRunner.Result send(NetlinkSocket netfilter, SetElementChanges changes) {
        try {
            netfilter.execute(NfTables.transaction(changes.messages()));
            return new ProcessRunner.Result(0, "", "");
        } catch (NetlinkException e) {
            return new ProcessRunner.Result(1, "", e.getMessage());
        }
    }

    /** The agent's nfnetlink socket; null (nft's text instead) where the kernel refuses one. */
    private static NetlinkSocket openNetfilter() {
        try {
            return NetlinkSocket.openNetfilter();
        } catch (NetlinkException e) {
            System.getLogger(NftExecutor.class.getName()).log(System.Logger.Level.WARNING,
                    "no nfnetlink socket ({0}): set elements go through nft", e.getMessage());
            return null;
        }
    }

    /**
     * Another network namespace (tests, where it stands for the guest): scripts as
     * {@link #withPrefix}, set elements over an nfnetlink socket opened inside {@code nsFile}
     * at first use, the same messages production sends.
     */
    static NftExecutor inNamespace(Path nsFile, List<String> prefix) {
        NftExecutor scripts = withPrefix(prefix);
        return new NftExecutor() {
            private NetlinkSocket netfilter;

            @Override
            public synchronized void close() {
                if (netfilter != null) {
                    netfilter.close();
                    netfilter = null;
                }
            }

            @Override
            public ProcessRunner.Result run(String script) {
                return scripts.run(script);
            }

            @Override
            public ProcessRunner.Result runElements(SetElementChanges changes) {
                return send(socket(), changes);
            }

            private synchronized NetlinkSocket socket() {
                if (netfilter == null) {
                    netfilter = Namespaces.inside(nsFile, NetlinkSocket::openNetfilter);
                }
                return netfilter;
            }

            @Override
            public boolean sysctl(String path, String value) {
                return scripts.sysctl(path, value);
            }
        };
    }

    /** Every command behind {@code prefix}, e.g. {@code ip netns exec NAME} (tests). */
    static NftExecutor withPrefix(List<String> prefix) {
        return new NftExecutor() {
            @Override
            public ProcessRunner.Result run(String script) {
                return oneShot(prefix, script, elementsOnly(script.lines().filter(l -> !l.isBlank()).toList()));
            }

            @Override
            public boolean sysctl(String path, String value) {
                List<String> cmd = concat(prefix, List.of("sysctl", "-q", "-w", path + "=" + value));
                ProcessRunner.Result r = ProcessRunner.exec(cmd, null, TIMEOUT_SECONDS);
                if (r.ok()) {
                    return true;
                }
                if (r.stderr().contains("No such file")) {
                    return false;
                }
                throw new CommandFailedException(cmd, r.exitCode(), r.stderr());
            }
        };
    }

    /**
     * One {@code nft -f -}. Element batches echo ({@code -e}) so the caller continues at the
     * commit line; table setup and teardown wait for the exit instead: nftables 1.1.3 (Debian 13)
     * crashes (SIGSEGV) echoing a batch that re-adds existing tables, chains and sets, which is
     * what every agent restart does (found by the Vagrant e2e run).
     */
    /** A script of set/map element changes only (non-blank lines given). */
    private static boolean elementsOnly(List<String> lines) {
        return !lines.isEmpty() && lines.stream().allMatch(l -> l.startsWith("add element ") || l.startsWith("delete element "));
    }

    /**
     * Only {@code list tables}: the names of the tables, without their rules and elements. The
     * network watch asks it every few seconds; in-process it costs no nft start (under the
     * client's emulated CPU a process listing both tables took ~0.9 s each).
     */
    private static boolean tablesListing(List<String> lines) {
        return lines.size() == 1 && lines.get(0).strip().startsWith("list tables");
    }

    private static ProcessRunner.Result oneShot(List<String> prefix, String script, boolean elementsOnly) {
        if (elementsOnly) {
            return ProcessRunner.execUntilLine(concat(prefix, List.of("nft", "-e", "-f", "-")), script, COMMITTED,
                    TIMEOUT_SECONDS);
        }
        return ProcessRunner.exec(concat(prefix, List.of("nft", "-f", "-")), script, TIMEOUT_SECONDS);
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> out = new ArrayList<>(a);
        out.addAll(b);
        return List.copyOf(out);
    }
}
