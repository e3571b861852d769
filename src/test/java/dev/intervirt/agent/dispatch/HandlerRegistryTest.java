package dev.intervirt.agent.dispatch;

import dev.intervirt.agent.dispatch.handler.AddPortForwardingHandler;
import dev.intervirt.agent.dispatch.handler.ConnectHandler;
import dev.intervirt.agent.dispatch.handler.GuestCommandHandler;
import dev.intervirt.agent.dispatch.handler.RemovePortForwardingHandler;
import dev.intervirt.agent.dispatch.handler.SetInternetAccessHandler;
import dev.intervirt.agent.dispatch.handler.StartContainerHandler;
import dev.intervirt.agent.protocol.Request;
import dev.intervirt.agent.protocol.Request.Command;
import dev.intervirt.agent.value.Protocol;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** A request type cannot go without its handler, and each handler names its lanes. */
class HandlerRegistryTest {

    @Test
    void everyRecordOfTheSealedHierarchyIsARequestType() {
        List<String> names = HandlerRegistry.requestTypes().stream().map(Class::getSimpleName).sorted().toList();
        assertEquals(List.of("AddContainer", "AddPortForwarding", "Connect", "Disconnect", "GuestCommand", "RemoveContainer",
                "RemovePortForwarding", "SetInternetAccess", "SetIpv4", "SetIpv6", "StartContainer", "StopContainer"), names);
    }

    @Test
    void aMissingHandlerIsRefusedWithItsName() {
        List<RequestHandler<?>> some = new ArrayList<>(List.of(new StartContainerHandler(), new ConnectHandler()));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> new HandlerRegistry(some));
        assertTrue(e.getMessage().contains("AddContainer"), e.getMessage());
        assertTrue(e.getMessage().contains("GuestCommand"), e.getMessage());
        assertFalse(e.getMessage().contains("StartContainer"), e.getMessage());
    }

    @Test
    void twoHandlersForOneTypeAreRefused() {
        List<RequestHandler<?>> twice = List.of(new ConnectHandler(), new ConnectHandler());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> new HandlerRegistry(twice));
        assertTrue(e.getMessage().contains("two handlers for Connect"), e.getMessage());
    }

    @Test
    void handlersNameTheirLanes() {
        assertEquals(List.of("a", "b"), new ConnectHandler().lanes(new Request.Connect("u", "a", "b")));
        assertEquals(List.of("c", "forward:tcp/8080"), new AddPortForwardingHandler()
                .lanes(new Request.AddPortForwarding("u", "c", 80, 8080, Protocol.TCP)));
        assertEquals(List.of("forward:udp/53"), new RemovePortForwardingHandler()
                .lanes(new Request.RemovePortForwarding("u", 53, Protocol.UDP)));
        GuestCommandHandler guest = new GuestCommandHandler();
        assertEquals(List.of(KeyedSerialExecutor.ALL), guest.lanes(new Request.GuestCommand("u", Command.WIPE)));
        assertTrue(guest.immediate(new Request.GuestCommand("u", Command.VERSION)));
        assertFalse(guest.immediate(new Request.GuestCommand("u", Command.SHUTDOWN)));
    }

    @Test
    void networkCallsAreQuickExceptAnSshForwardAndContainerCallsAreNot() {
        assertTrue(new ConnectHandler().quick(new Request.Connect("u", "a", "b")));
        assertTrue(new SetInternetAccessHandler()
                .quick(new Request.SetInternetAccess("u", "a", true)));
        assertTrue(new AddPortForwardingHandler().quick(new Request.AddPortForwarding("u", "c", 80, 8080, Protocol.TCP)));
        assertFalse(new AddPortForwardingHandler().quick(new Request.AddPortForwarding("u", "c", 22, 2222, Protocol.TCP)));
        assertTrue(new AddPortForwardingHandler().quick(new Request.AddPortForwarding("u", "c", 22, 2222, Protocol.UDP)));
        assertFalse(new StartContainerHandler().quick(new Request.StartContainer("u", "a")));
        assertFalse(new GuestCommandHandler().quick(new Request.GuestCommand("u", Command.WIPE)));
    }
}
