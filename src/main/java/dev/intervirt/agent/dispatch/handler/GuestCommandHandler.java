package dev.intervirt.agent.dispatch.handler;

import dev.intervirt.agent.dispatch.KeyedSerialExecutor;
import dev.intervirt.agent.dispatch.Progress;
import dev.intervirt.agent.guest.GuestService;
import dev.intervirt.agent.protocol.Reply;
import dev.intervirt.agent.protocol.Request.Command;
import dev.intervirt.agent.protocol.Request.GuestCommand;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import java.util.List;

/**
 * Command: {@code version} is answered at once; {@code wipe} and {@code update} stream progress;
 * {@code shutdown} and {@code reboot} run their power command once the reply is out. Every one
 * but version is a barrier: after everything before it, before everything after it.
 */
@ApplicationScoped
public class GuestCommandHandler extends TypedHandler<GuestCommand> {

    @Inject
    GuestService guest;

    @Override
    public List<String> lanes(GuestCommand request) {
        return List.of(KeyedSerialExecutor.ALL);
    }

    @Override
    public boolean immediate(GuestCommand request) {
        return request.command() == Command.VERSION;
    }

    @Override
    public Reply handle(GuestCommand request, Progress progress, List<Runnable> afterReply) {
        // A switch over every command: a new one does not compile until it is handled here.
        return switch (request.command()) {
            case VERSION -> Reply.version(request.uuid(), guest.version());
            case WIPE -> {
                guest.wipe(progress);
                yield Reply.done(request.uuid());
            }
            case UPDATE -> {
                guest.update(progress);
                yield Reply.done(request.uuid());
            }
            case SHUTDOWN -> {
                afterReply.add(guest.powerOff(GuestService.Power.SHUTDOWN));
                yield Reply.done(request.uuid());
            }
            case REBOOT -> {
                afterReply.add(guest.powerOff(GuestService.Power.REBOOT));
                yield Reply.done(request.uuid());
            }
        };
    }
}
