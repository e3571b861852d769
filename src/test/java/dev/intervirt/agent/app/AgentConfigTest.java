package dev.intervirt.agent.app;

import dev.intervirt.agent.image.ImageSettings;
import org.junit.jupiter.api.Test;

import java.lang.reflect.Method;
import java.lang.reflect.RecordComponent;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The builder changes what it is told and keeps every other setting. */
class AgentConfigTest {

    private static final AgentConfig D = AgentConfig.defaults();

    @Test
    void anUnchangedBuilderBuildsTheSameSettings() {
        assertEquals(D, D.toBuilder().build());
        AgentConfig other = D.withGuestCommands(List.of("/bin/true"), List.of(), List.of("/bin/false"));
        assertEquals(other, other.toBuilder().build());
    }

    @Test
    void eachSetterChangesOnlyItsComponent() throws Exception {
        AgentConfig changed = D.toBuilder().port(4000).libvirtUri("lxc:///other").stateDir(Path.of("/s")).imageDir(Path.of("/i"))
                .bridge("xbr0").ownerName("xowner").portPrefix("xp").memoryMiB(64).pidsMax(99).stopGrace(Duration.ofSeconds(3))
                .maxMessageBytes(2048).debug(true).favorCgroupMoves(false).flushBeforeReply(true).poweroffCommand(List.of("p")).rebootCommand(List.of("r"))
                .upgradeCommand(List.of("u")).images(ImageSettings.localOnly()).build();
        List<String> same = new ArrayList<>();
        for (RecordComponent c : AgentConfig.class.getRecordComponents()) {
            if (c.getAccessor().invoke(D).equals(c.getAccessor().invoke(changed))) {
                same.add(c.getName());
            }
        }
        assertEquals(List.of(), same, "every component has a setter that sets it");
        assertEquals(new AgentConfig(4000, "lxc:///other", Path.of("/s"), Path.of("/i"), "xbr0", "xowner", "xp", 64, 99,
                Duration.ofSeconds(3), 2048, true, false, true, List.of("p"), List.of("r"), List.of("u"), ImageSettings.localOnly()), changed);

        AgentConfig oneChange = D.toBuilder().pidsMax(99).build();
        for (RecordComponent c : AgentConfig.class.getRecordComponents()) {
            if (!c.getName().equals("pidsMax")) {
                assertEquals(c.getAccessor().invoke(D), c.getAccessor().invoke(oneChange), c.getName());
            }
        }
        assertEquals(99, oneChange.pidsMax());
    }

    @Test
    void theBuilderHasASetterNamedForEveryComponent() throws Exception {
        for (RecordComponent c : AgentConfig.class.getRecordComponents()) {
            Method setter = AgentConfig.Builder.class.getMethod(c.getName(), c.getType());
            assertEquals(AgentConfig.Builder.class, setter.getReturnType(), c.getName());
        }
    }

    @Test
    void theWithMethodsAreTheBuildersChanges() {
        assertEquals(D.toBuilder().port(1234).build(), D.withPort(1234));
        assertEquals(D.toBuilder().stateDir(Path.of("/x")).build(), D.withStateDir(Path.of("/x")));
        assertEquals(D.toBuilder().images(ImageSettings.localOnly()).build(), D.withImages(ImageSettings.localOnly()));
        assertEquals(List.of("a"), D.withGuestCommands(List.of("a"), List.of(), List.of()).poweroffCommand());
        // The record still copies the command lists, whoever builds it.
        List<String> mutable = new ArrayList<>(List.of("x"));
        AgentConfig c = D.toBuilder().rebootCommand(mutable).build();
        mutable.add("y");
        assertEquals(List.of("x"), c.rebootCommand());
    }
}
