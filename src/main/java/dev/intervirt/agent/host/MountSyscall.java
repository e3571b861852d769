package dev.intervirt.agent.host;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.NativeLong;

/** mount(2) itself: no {@code mount} process where a start or the agent's setup waits. */
final class MountSyscall {

    static final long MS_REMOUNT = 32;

    private interface C extends Library {
        C INSTANCE = Native.load("c", C.class);

        int mount(String source, String target, String type, NativeLong flags, String data) throws LastErrorException;
    }

    private MountSyscall() {
    }

    /** @throws LastErrorException with the errno when the kernel refuses */
    static void mount(String source, String target, String type, long flags, String data) {
        C.INSTANCE.mount(source, target, type, new NativeLong(flags), data);
    }
}
