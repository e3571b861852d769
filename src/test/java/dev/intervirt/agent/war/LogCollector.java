package dev.intervirt.agent.war;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;

/** Keeps the records of the runtime's java.util.logging (GlassFish embedded logs into the test JVM's). */
final class LogCollector extends Handler {

    private final Level least;
    private final List<LogRecord> records = new CopyOnWriteArrayList<>();

    LogCollector(Level least) {
        this.least = least;
    }

    @Override
    public void publish(LogRecord r) {
        if (r.getLevel().intValue() >= least.intValue()) {
            records.add(r);
        }
    }

    List<LogRecord> records() {
        return List.copyOf(records);
    }

    /** Every record's message and the messages of its causes. */
    List<String> messages() {
        List<String> messages = new ArrayList<>();
        for (LogRecord r : records) {
            messages.add(r.getMessage());
            for (Throwable t = r.getThrown(); t != null; t = t.getCause()) {
                messages.add(String.valueOf(t.getMessage()));
            }
        }
        return messages;
    }

    @Override
    public void flush() {
    }

    @Override
    public void close() {
    }
}
