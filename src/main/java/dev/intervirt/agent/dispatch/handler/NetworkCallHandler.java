package dev.intervirt.agent.dispatch.handler;

import dev.intervirt.agent.network.NetworkService;
import dev.intervirt.agent.protocol.Request;
import jakarta.inject.Inject;

/** A request that is one call of the {@link NetworkService}. */
public abstract class NetworkCallHandler<T extends Request> extends ServiceCallHandler<T> {

    @Inject
    NetworkService network;

    /** Netlink and nf_tables messages, a journal line: well under a millisecond here. */
    @Override
    public boolean quick(T request) {
        return true;
    }
}
