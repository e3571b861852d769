package dev.intervirt.agent.support;

import dev.intervirt.agent.host.ProcessRunner;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A network namespace of the test's own, made before all tests of a class and deleted after
 * them, holding the nft tables the nft ITs work on: set {@code bridge t links} (ifname pairs),
 * the marker set {@code bridge t seq} and map {@code inet f forwards}; and the checks both
 * ways of running nft in it (libnftables, the nft session) must pass alike.
 */
public final class NftTestNamespace implements BeforeAllCallback, AfterAllCallback {

    private final String name;

    public NftTestNamespace(String name) {
        this.name = name;
    }

    public String name() {
        return name;
    }

    /** The namespace's file, as libnftables is pointed at it. */
    public Path file() {
        return Path.of("/run/netns", name);
    }

    /** The command prefix that runs a command inside the namespace. */
    public List<String> prefix() {
        return List.of("ip", "netns", "exec", name);
    }

    /** Runs {@code nft} with {@code args} inside the namespace; its output. */
    public String nft(String... args) {
        return ProcessRunner.run(inside(args));
    }

    /** Runs an nft script ({@code nft -f -}) inside the namespace. */
    public String nftScript(String script) {
        return ProcessRunner.run(inside("-f", "-"), script);
    }

    /** The listing of set {@code bridge t links}. */
    public String links() {
        return nft("list", "set", "bridge", "t", "links");
    }

    /**
     * Runs a batch whose second line fails (it deletes an element that is not there) through
     * {@code batch}: nft's error is reported and the batch's first line did not take effect.
     */
    public void assertFailingBatchChangesNothing(Function<List<String>, ProcessRunner.Result> batch) {
        ProcessRunner.Result bad = batch.apply(List.of(
                "add element bridge t links { \"c\" . \"d\" }",
                "delete element bridge t links { \"x\" . \"y\" }"));
        assertFalse(bad.ok());
        assertTrue(bad.stderr().contains("No such file or directory"), bad.stderr());
        assertFalse(links().contains("\"c\" . \"d\""), "a failed batch changes nothing");
    }

    private List<String> inside(String... args) {
        List<String> command = new ArrayList<>(prefix());
        command.add("nft");
        command.addAll(List.of(args));
        return command;
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        ProcessRunner.run(List.of("ip", "netns", "add", name));
        nftScript(String.join("\n",
                "add table bridge t",
                "add set bridge t links { type ifname . ifname; }",
                "add set bridge t seq { type mark; }",
                "add table inet f",
                "add map inet f forwards { type inet_proto . inet_service : ipv4_addr . inet_service; }") + "\n");
    }

    @Override
    public void afterAll(ExtensionContext context) {
        ProcessRunner.exec(List.of("ip", "netns", "delete", name), null, 10);
    }
}
