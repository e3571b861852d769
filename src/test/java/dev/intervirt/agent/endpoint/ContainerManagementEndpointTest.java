package dev.intervirt.agent.endpoint;

import dev.intervirt.agent.app.AgentConfig;
import jakarta.websocket.Session;
import org.junit.jupiter.api.Test;

import java.lang.reflect.Proxy;
import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What the endpoint sets on a session it opens. */
class ContainerManagementEndpointTest {

    @Test
    void aSessionNeverIdlesOutAndItsTimeoutIsNegativeNotZero() {
        Map<String, Object> set = new HashMap<>();
        Map<String, Object> userProperties = new HashMap<>();
        Session session = (Session) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[]{Session.class},
                (proxy, method, args) -> switch (method.getName()) {
                    case "getUserProperties" -> userProperties;
                    case "getId" -> "s1";
                    case "setMaxIdleTimeout", "setMaxTextMessageBufferSize", "setMaxBinaryMessageBufferSize" -> {
                        set.put(method.getName(), args[0]);
                        yield null;
                    }
                    default -> throw new UnsupportedOperationException(method.getName());
                });
        ContainerManagementEndpoint endpoint = new ContainerManagementEndpoint();
        endpoint.config = AgentConfig.defaults();

        endpoint.open(session);

        // 0 would mean "never" as well, but Tyrus then schedules a no-op task per message.
        assertTrue((Long) set.get("setMaxIdleTimeout") < 0, set::toString);
        assertEquals(AgentConfig.defaults().maxMessageBytes(), set.get("setMaxTextMessageBufferSize"));
        assertInstanceOf(SessionReplier.class, userProperties.values().iterator().next());
    }
}
