package dev.intervirt.agent.app;

import jakarta.enterprise.inject.Instance;
import jakarta.enterprise.inject.spi.CDI;
import org.glassfish.tyrus.core.ComponentProvider;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Lets Tyrus obtain endpoints, decoders and encoders from CDI, and destroys them again (so
 * {@code @Dependent} instances do not pile up and {@code @PreDestroy} runs). Registered in
 * {@code META-INF/services}. Only classes of the agent are taken; others fall back to Tyrus.
 */
public class CdiComponentProvider extends ComponentProvider {

    private final Map<Object, Instance.Handle<?>> handles = new ConcurrentHashMap<>();

    @Override
    public boolean isApplicable(Class<?> c) {
        if (!c.getName().startsWith("dev.intervirt.agent.")) {
            return false;
        }
        try {
            return CDI.current().select(c).isResolvable();
        } catch (IllegalStateException e) {
            return false; // no CDI container (yet)
        }
    }

    @Override
    public <T> Object create(Class<T> c) {
        Instance.Handle<T> handle = CDI.current().select(c).getHandle();
        T instance = handle.get();
        handles.put(instance, handle);
        return instance;
    }

    @Override
    public boolean destroy(Object o) {
        Instance.Handle<?> handle = handles.remove(o);
        if (handle == null) {
            return false;
        }
        handle.destroy();
        return true;
    }
}
