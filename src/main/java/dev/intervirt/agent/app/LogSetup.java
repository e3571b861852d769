package dev.intervirt.agent.app;

import java.time.Instant;
import java.util.logging.ConsoleHandler;
import java.util.logging.Formatter;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/** One line per record on stderr (journald adds the time on the appliance). */
final class LogSetup {

    private LogSetup() {
    }

    static void configure(boolean debug) {
        Logger root = Logger.getLogger("");
        for (var h : root.getHandlers()) {
            root.removeHandler(h);
        }
        ConsoleHandler handler = new ConsoleHandler();
        handler.setLevel(Level.ALL);
        handler.setFormatter(new Formatter() {
            @Override
            public String format(LogRecord r) {
                String source = r.getLoggerName() == null ? "" : r.getLoggerName().substring(r.getLoggerName().lastIndexOf('.') + 1);
                StringBuilder sb = new StringBuilder().append(Instant.ofEpochMilli(r.getMillis())).append(' ')
                        .append(r.getLevel().getName()).append(' ').append(source).append(": ").append(formatMessage(r)).append('\n');
                if (r.getThrown() != null && debug) {
                    var sw = new java.io.StringWriter();
                    r.getThrown().printStackTrace(new java.io.PrintWriter(sw));
                    sb.append(sw);
                }
                return sb.toString();
            }
        });
        root.addHandler(handler);
        root.setLevel(Level.INFO);
        Logger.getLogger("dev.intervirt").setLevel(debug ? Level.FINE : Level.INFO);
        // Weld and Grizzly are chatty at INFO.
        Logger.getLogger("org.jboss.weld").setLevel(Level.WARNING);
        Logger.getLogger("org.glassfish").setLevel(Level.WARNING);
    }
}
