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

    public static String domain(Hypervisor.DomainSpec spec, String network) {
        return write(w -> {
            w.writeStartElement("domain");
            w.writeAttribute("type", "lxc");
            element(w, "name", spec.name());
            w.writeStartElement("metadata");
            w.writeStartElement("iv", "container", METADATA_NS);
            w.writeNamespace("iv", METADATA_NS);
            w.writeAttribute("id", spec.containerId());
            w.writeEndElement();
            w.writeEndElement();
            w.writeStartElement("memory");
            w.writeAttribute("unit", "MiB");
            w.writeCharacters(Long.toString(spec.memoryMiB()));
            w.writeEndElement();
            element(w, "vcpu", "1");
            w.writeStartElement("os");
            element(w, "type", "exe");
            element(w, "init", "/sbin/init");
            w.writeEndElement();
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
