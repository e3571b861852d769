package dev.intervirt.agent.dispatch.handler;

import dev.intervirt.agent.container.ContainerService;
import dev.intervirt.agent.protocol.Request;
import jakarta.inject.Inject;

/** A request that is one call of the {@link ContainerService}. */
public abstract class ContainerCallHandler<T extends Request> extends ServiceCallHandler<T> {

    @Inject
    ContainerService containers;
}
