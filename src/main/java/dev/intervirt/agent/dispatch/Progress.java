package dev.intervirt.agent.dispatch;

/** Where a long operation reports its steps; each call becomes one progress message. */
@FunctionalInterface
public interface Progress {

    Progress NONE = (fraction, output) -> { };

    /** @param fraction 0..1, rising; @param output what is being done, for the learner */
    void report(double fraction, String output);
}
