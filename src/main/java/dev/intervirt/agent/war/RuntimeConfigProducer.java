package dev.intervirt.agent.war;

import dev.intervirt.agent.app.AgentConfig;
import dev.intervirt.agent.app.ConfigParser;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The configuration inside a Jakarta runtime, where there is no command line: the
 * {@code INTERVIRT_*} settings of the standalone agent, read from the environment and from JVM
 * system properties of the same names (a system property wins). The WAR's {@link AgentConfig}
 * bean; the jar's is {@code app.StandaloneConfig} (this class is not one of the jar's beans).
 */
@ApplicationScoped
public class RuntimeConfigProducer {

    static final String PREFIX = "INTERVIRT_";

    @Produces
    @Singleton
    AgentConfig config() {
        return read(System.getenv(), System.getProperties());
    }

    /** Environment overlaid with the system properties named {@code INTERVIRT_*}. */
    static AgentConfig read(Map<String, String> env, Map<Object, Object> properties) {
        Map<String, String> settings = new HashMap<>(env);
        properties.forEach((k, v) -> {
            if (k instanceof String name && name.startsWith(PREFIX) && v instanceof String value) {
                settings.put(name, value);
            }
        });
        try {
            return ConfigParser.parse(new String[0], settings);
        } catch (ConfigParser.UsageException e) {
            throw new IllegalStateException("intervirt-agent: " + settingNames(e.getMessage())
                    + " Set INTERVIRT_* as environment variables or JVM system properties of the runtime.", e);
        }
    }

    /** ConfigParser names flags; here there are only settings: --memory-mib is INTERVIRT_MEMORY_MIB. */
    static String settingNames(String message) {
        return Pattern.compile("--([a-z][a-z-]*)").matcher(message)
                .replaceAll(m -> PREFIX + m.group(1).toUpperCase(Locale.ROOT).replace('-', '_'));
    }
}
