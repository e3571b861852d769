package dev.intervirt.agent.app;

import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.spi.AfterBeanDiscovery;
import jakarta.enterprise.inject.spi.Extension;
import jakarta.inject.Singleton;

/**
 * The standalone jar's configuration (parsed by {@link Main} from flags and the environment) as
 * the CDI bean {@link AgentConfig}: Weld SE cannot pass constructor arguments to beans, so the
 * parsed value is added as a synthetic bean. The WAR's counterpart is {@code war.RuntimeConfigProducer}.
 */
final class StandaloneConfig implements Extension {

    private final AgentConfig config;

    StandaloneConfig(AgentConfig config) {
        this.config = config;
    }

    void addConfigBean(@Observes AfterBeanDiscovery event) {
        event.addBean().types(AgentConfig.class, Object.class).scope(Singleton.class).produceWith(beans -> config);
    }
}
