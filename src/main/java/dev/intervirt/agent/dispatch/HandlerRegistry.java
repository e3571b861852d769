package dev.intervirt.agent.dispatch;

import dev.intervirt.agent.protocol.Request;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/** Every request record type mapped to its one handler; incomplete or ambiguous sets are refused. */
public final class HandlerRegistry {

    private final Map<Class<?>, RequestHandler<?>> byType = new HashMap<>();

    public HandlerRegistry(Iterable<? extends RequestHandler<?>> handlers) {
        for (RequestHandler<?> h : handlers) {
            RequestHandler<?> before = byType.put(h.type(), h);
            if (before != null) {
                throw new IllegalStateException("two handlers for " + h.type().getSimpleName() + ": "
                        + before.getClass().getName() + " and " + h.getClass().getName());
            }
        }
        Set<String> missing = new TreeSet<>();
        for (Class<?> type : requestTypes()) {
            if (!byType.containsKey(type)) {
                missing.add(type.getSimpleName());
            }
        }
        if (!missing.isEmpty()) {
            throw new IllegalStateException("no handler for the request type(s) " + missing);
        }
    }

    /** The handler of this request's type. */
    @SuppressWarnings("unchecked")
    public <T extends Request> RequestHandler<T> of(T request) {
        return (RequestHandler<T>) byType.get(request.getClass());
    }

    /** Every concrete request type: the records of the sealed {@link Request} hierarchy. */
    public static List<Class<?>> requestTypes() {
        List<Class<?>> out = new ArrayList<>();
        collect(Request.class, out);
        return out;
    }

    private static void collect(Class<?> type, List<Class<?>> out) {
        if (type.isRecord()) {
            out.add(type);
        } else if (type.isSealed()) {
            for (Class<?> sub : type.getPermittedSubclasses()) {
                collect(sub, out);
            }
        }
    }
}
