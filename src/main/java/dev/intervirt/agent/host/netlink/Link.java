package dev.intervirt.agent.host.netlink;

/** A network device: index, name, flags ({@code IFF_UP} = 1) and master (0 when none). */
public record Link(int index, String name, int flags, int master) {

    public boolean isUp() {
        return (flags & Rtnl.IFF_UP) != 0;
    }
}
