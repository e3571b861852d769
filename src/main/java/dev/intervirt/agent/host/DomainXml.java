package dev.intervirt.agent.host;

import javax.xml.stream.XMLOutputFactory;
import javax.xml.stream.XMLStreamException;
import javax.xml.stream.XMLStreamWriter;
import java.io.StringWriter;

/**
 * Writes libvirt XML with a real XML writer, so every value is escaped. Values are validated
 * before they get here too; this is the second fence.
 */
public final class DomainXml {

    /** Namespace of the agent's domain metadata: marks the domain as the agent's own. */
    public static final String METADATA_NS = "https://intervirt.dev/agent/1";

    private DomainXml() {
    }

    /**
     * Run as the container's pid 1 before {@code exec /sbin/init} (the script is the agent's own,
     * never client input). On hybrid cgroup hosts libvirt's LXC driver gives the container no
     * cgroup namespace and leaves its init at the root of the {@code name=systemd} and unified
     * hierarchies; systemd then takes "/" as its root and puts itself and every service into
     * {@code /init.scope}, {@code /system.slice} … of every controller, out of libvirt's memory
     * and device cgroups (measured: a container's memory limit did not apply at all). Pid 1 must
     * be in libvirt's own path (read from its memory line) in those two hierarchies before systemd
     * starts, so that it builds its tree under it and the limits hold. The agent moves it there
     * from the host as soon as the domain runs ({@link InitCgroupPlacement}); the script waits
     * for that (reading its own cgroup file: shell built-ins only, no process), and if it does
     * not come within ~20,000 reads (an agent that died meanwhile, hierarchies mounted elsewhere)
     * moves itself, mounting the hierarchies inside. Where there is no memory line (pure cgroup
     * v2) nothing is done.
     */
    static final String CGROUP_PLACEMENT = String.join("\n",
            "c() { p= s= u=; while IFS=: read -r id ctl path; do [ \"$ctl\" = memory ] && p=$path;"
                    + " [ \"$ctl\" = name=systemd ] && s=$path; [ \"$id\" = 0 ] && u=$path; done < /proc/self/cgroup; }",
            "c",
            "if [ -n \"$p\" ] && [ \"$p\" != / ]; then",
            "  n=0",
            "  while [ \"${s:-$u}\" != \"$p\" ] && [ $n -lt 20000 ]; do n=$((n+1)); c; done",
            "  if [ \"${s:-$u}\" != \"$p\" ] && mkdir -p /dev/.ivcg; then",
            "    for o in none,name=systemd ''; do",
            "      if [ -n \"$o\" ]; then mount -t cgroup -o \"$o\" cgroup /dev/.ivcg; else mount -t cgroup2 cgroup2 /dev/.ivcg; fi"
                    + " 2>/dev/null || continue",
            "      mkdir -p \"/dev/.ivcg$p\" && echo 1 > \"/dev/.ivcg$p/cgroup.procs\"",
            "      umount /dev/.ivcg",
            "    done",
            "    rmdir /dev/.ivcg",
            "  fi",
            "fi",
            "exec /sbin/init");

    public static String domain(Hypervisor.DomainSpec spec, String network) {
        return domain(spec, network, null);
    }

    /** The domain; with {@code uuid} (a redefinition of an existing domain), that uuid. */
    public static String domain(Hypervisor.DomainSpec spec, String network, String uuid) {
        return write(w -> {
            w.writeStartElement("domain");
            w.writeAttribute("type", "lxc");
            element(w, "name", spec.name());
            if (uuid != null) {
                element(w, "uuid", uuid);
            }
            w.writeStartElement("metadata");
            w.writeStartElement("iv", "container", METADATA_NS);
            w.writeNamespace("iv", METADATA_NS);
            w.writeAttribute("id", spec.containerId());
            // The owner label: an agent adopts, reconciles or removes only domains that carry its own.
            w.writeAttribute("owner", network);
            w.writeEndElement();
            w.writeEndElement();
            w.writeStartElement("memory");
            w.writeAttribute("unit", "MiB");
            w.writeCharacters(Long.toString(spec.memoryMiB()));
            w.writeEndElement();
            element(w, "vcpu", "1");
            w.writeStartElement("os");
            element(w, "type", "exe");
            element(w, "init", "/bin/sh");
            element(w, "initarg", "-c");
            element(w, "initarg", CGROUP_PLACEMENT);
            w.writeEndElement();
            if (spec.docker()) {
                dockerFeatures(w);
            }
            w.writeStartElement("clock");
            w.writeAttribute("offset", "utc");
            w.writeEndElement();
            element(w, "on_poweroff", "destroy");
            element(w, "on_reboot", "restart");
            element(w, "on_crash", "destroy");
            w.writeStartElement("devices");
            element(w, "emulator", "/usr/lib/libvirt/libvirt_lxc");
            w.writeStartElement("filesystem");
            w.writeAttribute("type", "mount");
            emptyWith(w, "source", "dir", spec.rootfs().toString());
            emptyWith(w, "target", "dir", "/");
            w.writeEndElement();
            if (spec.docker()) {
                w.writeStartElement("filesystem");
                w.writeAttribute("type", "mount");
                emptyWith(w, "source", "dir", spec.dockerData().toString());
                emptyWith(w, "target", "dir", DOCKER_DATA_TARGET);
                w.writeEndElement();
            }
            if (spec.toolsDir() != null) {
                w.writeStartElement("filesystem");
                w.writeAttribute("type", "mount");
                emptyWith(w, "source", "dir", spec.toolsDir().toString());
                emptyWith(w, "target", "dir", dev.intervirt.agent.ssh.ComputerTools.MOUNT_POINT);
                w.writeEmptyElement("readonly");
                w.writeEndElement();
            }
            w.writeStartElement("interface");
            w.writeAttribute("type", "network");
            emptyWith(w, "source", "network", network);
            emptyWith(w, "mac", "address", spec.mac().canonical());
            emptyWith(w, "target", "dev", spec.hostPort());
            emptyWith(w, "guest", "dev", "eth0");
            w.writeEndElement();
            w.writeStartElement("console");
            w.writeAttribute("type", "pty");
            w.writeEndElement();
            w.writeEndElement();
            w.writeEndElement();
        });
    }

    /** Where Docker keeps its images and containers inside a computer. */
    public static final String DOCKER_DATA_TARGET = "/var/lib/docker";

    /**
     * What a computer that runs Docker gets beyond libvirt's default (measured: each one was
     * removed in turn, and {@code docker run} with a published port and a volume still had to
     * work; see docs/host-notes.md):
     * <ul>
     * <li>{@code CAP_MKNOD} in the bounding set: runc gives every Docker container Docker's
     * default capability set, which contains {@code CAP_MKNOD}; a capability the parent lacks
     * cannot be granted ("runc create failed: unable to apply caps: operation not permitted").
     * The device cgroup libvirt sets up for the computer still allows opening only its few safe
     * devices (null, zero, full, random, urandom, tty, ptmx, pts, fuse), so a node made with it
     * opens nothing else.</li>
     * </ul>
     * libvirt's other drops stay: sys_module (the guest loads Docker's kernel modules itself),
     * sys_time, sys_resource, audit_control and mac_admin (Docker runs without them; it only
     * warns). The {@code /var/lib/docker} mount is not a privilege: it gives Docker a directory
     * on the guest's own filesystem instead of the computer's overlay root, on which Docker's
     * overlay2 driver cannot mount ("failed to mount overlay: invalid argument") and falls
     * back to vfs (a full copy of every layer).
     */
    private static void dockerFeatures(XMLStreamWriter w) throws XMLStreamException {
        w.writeStartElement("features");
        w.writeStartElement("capabilities");
        w.writeAttribute("policy", "default");
        emptyWith(w, "mknod", "state", "on");
        w.writeEndElement();
        w.writeEndElement();
    }

    /**
     * The agent's network: {@code forward mode='open'} so libvirt adds no firewall rules of its
     * own, no DNS (so no dnsmasq), and link-local gateway addresses on the bridge (containers
     * carry /32 and /128).
     */
    public static String network(String name, String bridge) {
        return write(w -> {
            w.writeStartElement("network");
            element(w, "name", name);
            emptyWith(w, "forward", "mode", "open");
            // No dnsmasq: containers get no DNS/DHCP service from the guest (they reach no guest
            // service at all), and two agents' networks share the gateway address 169.254.0.1,
            // where a second dnsmasq could not bind.
            emptyWith(w, "dns", "enable", "no");
            w.writeStartElement("bridge");
            w.writeAttribute("name", bridge);
            w.writeAttribute("stp", "off");
            w.writeAttribute("delay", "0");
            w.writeEndElement();
            w.writeStartElement("ip");
            w.writeAttribute("address", "169.254.0.1");
            w.writeAttribute("prefix", "32");
            w.writeEndElement();
            w.writeStartElement("ip");
            w.writeAttribute("family", "ipv6");
            w.writeAttribute("address", "fe80::1");
            w.writeAttribute("prefix", "64");
            w.writeEndElement();
            w.writeEndElement();
        });
    }

    private interface Body {
        void write(XMLStreamWriter w) throws XMLStreamException;
    }

    private static String write(Body body) {
        StringWriter out = new StringWriter();
        try {
            XMLStreamWriter w = XMLOutputFactory.newFactory().createXMLStreamWriter(out);
            body.write(w);
            w.writeEndDocument();
            w.close();
        } catch (XMLStreamException e) {
            throw new IllegalStateException("cannot write libvirt XML", e);
        }
        return out.toString();
    }

    private static void element(XMLStreamWriter w, String name, String text) throws XMLStreamException {
        w.writeStartElement(name);
        w.writeCharacters(text);
        w.writeEndElement();
    }

    private static void emptyWith(XMLStreamWriter w, String name, String attr, String value) throws XMLStreamException {
        w.writeEmptyElement(name);
        w.writeAttribute(attr, value);
    }
}
