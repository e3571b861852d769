package dev.intervirt.agent.host;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import dev.intervirt.agent.host.netlink.Namespaces;

import java.nio.file.Path;
import java.util.List;
import java.util.logging.Logger;

/**
 * Set-element transactions (and the table names' listing) through libnftables in the agent's
 * own process (JNA): the same
 * library {@code nft} is built on, one context kept open (as {@link NftSession}'s process keeps
 * its socket: no ~12 ms close after a deletion), each batch one {@code nft_run_cmd_from_buffer}
 * call and thus one transaction, answered in the calling thread with no pipe and no other
 * process to wait for. Errors are nft's own text. A failed batch frees the context; the next
 * batch makes a fresh one. Used by {@link NftExecutor#local(String)} when the library loads;
 * {@link NftSession} otherwise.
 */
final class NftLibrary implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(NftLibrary.class.getName());

    interface Lib extends Library {
        Pointer nft_ctx_new(int flags);

        void nft_ctx_free(Pointer ctx);

        int nft_ctx_buffer_output(Pointer ctx);

        int nft_ctx_buffer_error(Pointer ctx);

        String nft_ctx_get_output_buffer(Pointer ctx);

        String nft_ctx_get_error_buffer(Pointer ctx);

        int nft_run_cmd_from_buffer(Pointer ctx, String buffer);
    }

    private final Lib lib;
    private final Path namespace;
    private Pointer ctx;

    private NftLibrary(Lib lib, Path namespace) {
        this.lib = lib;
        this.namespace = namespace;
    }

    /** The library in the agent's namespace, or null when it cannot be loaded (no libnftables.so.1). */
    static NftLibrary load() {
        return load(null);
    }

    /** {@code namespace}: a network namespace file the context is made in (tests); null for the agent's own. */
    static NftLibrary load(Path namespace) {
        try {
            return new NftLibrary(Native.load("nftables", Lib.class), namespace);
        } catch (UnsatisfiedLinkError e) {
            LOG.info("libnftables not loadable (" + e.getMessage() + "); element changes go through an nft process");
            return null;
        }
    }

    /**
     * Runs the commands as one transaction (element changes) or one listing; the result as if
     * from a one-shot nft, a listing's text as its stdout.
     */
    synchronized ProcessRunner.Result run(List<String> commands) {
        if (ctx == null) {
            ctx = namespace == null ? open() : Namespaces.inside(namespace, this::open);
        }
        int rc = lib.nft_run_cmd_from_buffer(ctx, String.join("\n", commands) + "\n");
        String error = lib.nft_ctx_get_error_buffer(ctx);
        String output = lib.nft_ctx_get_output_buffer(ctx); // also empties it
        if (rc == 0) {
            return new ProcessRunner.Result(0, output == null ? "" : output, "");
        }
        close();
        return new ProcessRunner.Result(1, "", error == null || error.isBlank() ? "nft library: batch failed" : error);
    }

    /** A context whose netlink socket is open at once (a first command opens it if creating did not). */
    private Pointer open() {
        Pointer c = lib.nft_ctx_new(0);
        if (c == null) {
            throw new CommandFailedException(List.of("nft_ctx_new"), -1, "libnftables made no context");
        }
        lib.nft_ctx_buffer_output(c);
        lib.nft_ctx_buffer_error(c);
        return c;
    }

    @Override
    public synchronized void close() {
        if (ctx != null) {
            lib.nft_ctx_free(ctx);
            ctx = null;
        }
    }
}
