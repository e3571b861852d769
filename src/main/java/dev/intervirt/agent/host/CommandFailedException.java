package dev.intervirt.agent.host;

import java.util.List;

/** A host command exited non-zero or could not be started; carries its stderr as the reason. */
public class CommandFailedException extends HostException {
    private final List<String> command;
    private final int exitCode;

    public CommandFailedException(List<String> command, int exitCode, String reason) {
        super(Kind.FAILED, String.join(" ", command) + " failed" + (exitCode >= 0 ? " (exit " + exitCode + ")" : "")
                + (reason == null || reason.isBlank() ? "" : ": " + reason.strip()));
        this.command = List.copyOf(command);
        this.exitCode = exitCode;
    }

    public List<String> command() {
        return command;
    }

    public int exitCode() {
        return exitCode;
    }
}
