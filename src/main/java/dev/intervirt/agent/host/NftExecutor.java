package dev.intervirt.agent.host;

import java.util.List;

/**
 * Runs one nft script as one atomic transaction ({@code nft -f -}, the script on stdin) and
 * returns the result whatever the exit code. Replaceable so that unit tests can capture the
 * scripts and integration tests can aim at another network namespace.
 */
@FunctionalInterface
interface NftExecutor {

    long TIMEOUT_SECONDS = 30;

    ProcessRunner.Result run(String script);

    /** {@code nft -f -} in the agent's own network namespace. */
    static NftExecutor local() {
        return script -> ProcessRunner.exec(List.of("nft", "-f", "-"), script, TIMEOUT_SECONDS);
    }

    /** {@code prefix... nft -f -}, e.g. {@code ip netns exec NAME} (tests). */
    static NftExecutor withPrefix(List<String> prefix) {
        List<String> command = new java.util.ArrayList<>(prefix);
        command.addAll(List.of("nft", "-f", "-"));
        List<String> fixed = List.copyOf(command);
        return script -> ProcessRunner.exec(fixed, script, TIMEOUT_SECONDS);
    }
}
