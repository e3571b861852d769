package dev.intervirt.agent.ssh;

import java.net.Inet4Address;

/** A running computer as the SSH endpoint reaches it: its address on the bridge and its init. */
record Computer(String id, Inet4Address ipv4, int initPid) {
}
