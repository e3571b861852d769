package dev.intervirt.agent.dispatch.handler;

import dev.intervirt.agent.dispatch.RequestHandler;
import dev.intervirt.agent.protocol.Request;

import java.lang.reflect.ParameterizedType;

/**
 * A handler whose record type is the type argument of its {@code extends} clause: a handler class
 * names its request type once, and {@link #type()} cannot disagree with it.
 */
public abstract class TypedHandler<T extends Request> implements RequestHandler<T> {

    @Override
    @SuppressWarnings("unchecked")
    public Class<T> type() {
        for (Class<?> c = getClass(); c != null; c = c.getSuperclass()) {
            if (c.getGenericSuperclass() instanceof ParameterizedType p
                    && p.getActualTypeArguments()[0] instanceof Class<?> recordType) {
                return (Class<T>) recordType;
            }
        }
        throw new IllegalStateException(getClass().getName() + " names no request type");
    }
}
