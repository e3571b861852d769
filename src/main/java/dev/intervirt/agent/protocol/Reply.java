package dev.intervirt.agent.protocol;

import jakarta.json.bind.annotation.JsonbTransient;

/**
 * One message from the agent. Null fields are left out of the JSON, so the keys are only ever
 * {@code type, refID, error, code, progress, output, status, version}.
 */
public record Reply(String type, String refID, String error, Integer code, Double progress, String output,
                    Integer status, String version) {

    public static final String GENERAL = "General";
    public static final String VERSION = "Version";

    /** Success of a plain request, or the final message of a stream. */
    public static Reply done(String refId) {
        return new Reply(GENERAL, refId, null, null, null, null, null, null);
    }

    /** Success that carries a note for the learner (e.g. a MAC that had to be changed). */
    public static Reply doneWithNote(String refId, String note) {
        return new Reply(GENERAL, refId, null, null, null, note, null, null);
    }

    /** A progress message of a stream; {@code status} -1 marks "not finished yet". */
    public static Reply progress(String refId, double fraction, String output) {
        double clamped = Double.isNaN(fraction) ? 0.0 : Math.max(0.0, Math.min(1.0, fraction));
        return new Reply(GENERAL, refId, null, null, clamped, output, -1, null);
    }

    public static Reply error(String refId, ErrorCode code, String message) {
        return new Reply(GENERAL, refId, message, code.wire(), null, null, null, null);
    }

    public static Reply version(String refId, String version) {
        return new Reply(VERSION, refId, null, null, null, null, null, version);
    }

    @JsonbTransient
    public boolean isFailure() {
        return code != null && code != 0;
    }

    @JsonbTransient
    public boolean isProgress() {
        return status != null && status == -1;
    }
}
