package dev.intervirt.agent.dispatch.handler;

import dev.intervirt.agent.dispatch.Progress;
import dev.intervirt.agent.protocol.Reply;
import dev.intervirt.agent.protocol.Request;

import java.util.List;

/** A handler whose request is one service call answered with a plain done: a subclass states only that call. */
public abstract class ServiceCallHandler<T extends Request> extends TypedHandler<T> {

    @Override
    public Reply handle(T request, Progress progress, List<Runnable> afterReply) {
        call(request, progress);
        return Reply.done(request.uuid());
    }

    /** Does the request; a failure is thrown and becomes an error reply in the dispatcher. */
    protected abstract void call(T request, Progress progress);
}
