package dev.intervirt.agent.app;

import dev.intervirt.agent.dispatch.HandlerRegistry;
import dev.intervirt.agent.dispatch.RequestHandler;
import org.junit.jupiter.api.Test;

import java.lang.reflect.Constructor;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The standalone agent lists its beans by hand: a handler left out of the list fails here, not at a user's. */
class BeanClassesTest {

    @Test
    void theBeanListHasAHandlerForEveryRequestType() throws Exception {
        List<RequestHandler<?>> handlers = new ArrayList<>();
        for (Class<?> c : AgentServer.BEAN_CLASSES) {
            if (RequestHandler.class.isAssignableFrom(c)) {
                Constructor<?> k = c.getDeclaredConstructor();
                handlers.add((RequestHandler<?>) k.newInstance());
            }
        }
        assertDoesNotThrow(() -> new HandlerRegistry(handlers));
    }
}
