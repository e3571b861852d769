package dev.intervirt.agent.app;

import dev.intervirt.agent.host.DomainXml;
import dev.intervirt.agent.host.Hypervisor;
import dev.intervirt.agent.value.MacAddress;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;
import org.xml.sax.InputSource;

import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilder;
import javax.xml.parsers.DocumentBuilderFactory;
import java.io.StringReader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The libvirt XML parses, carries what libvirt needs, and escapes whatever it is given. */
class DomainXmlTest {

    static Document parse(String xml) throws Exception {
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        f.setNamespaceAware(true);
        f.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
        f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
        DocumentBuilder b = f.newDocumentBuilder();
        return b.parse(new InputSource(new StringReader(xml)));
    }

    static List<Element> children(Element parent, String name) {
        List<Element> out = new ArrayList<>();
        NodeList nodes = parent.getChildNodes();
        for (int i = 0; i < nodes.getLength(); i++) {
            Node n = nodes.item(i);
            if (n instanceof Element e && name.equals(e.getLocalName()) && e.getNamespaceURI() == null) {
                out.add(e);
            }
        }
        return out;
    }

    static Element child(Element parent, String name) {
        List<Element> c = children(parent, name);
        assertEquals(1, c.size(), () -> "expected exactly one <" + name + "> in <" + parent.getTagName() + ">");
        return c.get(0);
    }

    static Hypervisor.DomainSpec spec(String name, String id, Path rootfs, String port) {
        return new Hypervisor.DomainSpec(name, id, rootfs, new MacAddress("0a:5b:02:67:0c:ff"), port, 384);
    }

    /** The agent's tools (SFTP server) are a second, read-only bind mount at a hidden path. */
    @Test
    void toolsAreMountedReadOnly() throws Exception {
        Hypervisor.DomainSpec base = spec("intervirt-c1", "c1", Path.of("/var/lib/intervirt/containers/c1/rootfs"), "ivc1");
        Hypervisor.DomainSpec withTools = new Hypervisor.DomainSpec(base.name(), base.containerId(), base.rootfs(), base.mac(),
                base.hostPort(), base.memoryMiB(), Path.of("/var/lib/intervirt/computer-tools"), null);
        Element devices = child(parse(DomainXml.domain(withTools, "intervirt")).getDocumentElement(), "devices");
        List<Element> fs = children(devices, "filesystem");
        assertEquals(2, fs.size());
        Element tools = fs.get(1);
        assertEquals("/var/lib/intervirt/computer-tools", child(tools, "source").getAttribute("dir"));
        assertEquals("/.intervirt-agent", child(tools, "target").getAttribute("dir"));
        child(tools, "readonly");
        assertEquals(1, children(child(parse(DomainXml.domain(base, "intervirt")).getDocumentElement(), "devices"),
                "filesystem").size(), "no tools, no mount");
    }

    @Test
    void domain() throws Exception {
        String xml = DomainXml.domain(spec("intervirt-computer-93281", "computer-93281",
                Path.of("/var/lib/intervirt/containers/computer-93281/rootfs"), "ivc7"), "intervirt");
        Element d = parse(xml).getDocumentElement();
        assertEquals("domain", d.getTagName());
        assertEquals("lxc", d.getAttribute("type"));
        assertEquals("intervirt-computer-93281", child(d, "name").getTextContent());

        Element memory = child(d, "memory");
        assertEquals("MiB", memory.getAttribute("unit"));
        assertEquals("384", memory.getTextContent());

        Element os = child(d, "os");
        assertEquals("exe", child(os, "type").getTextContent());
        assertEquals("/bin/sh", child(os, "init").getTextContent());
        assertTrue(os.getTextContent().contains("exec /sbin/init"), "the image's own init runs after the cgroup placement");

        Element devices = child(d, "devices");
        Element fs = child(devices, "filesystem");
        assertEquals("mount", fs.getAttribute("type"));
        assertEquals("/var/lib/intervirt/containers/computer-93281/rootfs", child(fs, "source").getAttribute("dir"));
        assertEquals("/", child(fs, "target").getAttribute("dir"));

        Element nic = child(devices, "interface");
        assertEquals("network", nic.getAttribute("type"));
        assertEquals("intervirt", child(nic, "source").getAttribute("network"));
        assertEquals("0a:5b:02:67:0c:ff", child(nic, "mac").getAttribute("address"));
        assertEquals("ivc7", child(nic, "target").getAttribute("dev"));
        assertEquals("eth0", child(nic, "guest").getAttribute("dev"));

        Element metadata = child(d, "metadata");
        NodeList marks = metadata.getElementsByTagNameNS(DomainXml.METADATA_NS, "container");
        assertEquals(1, marks.getLength());
        Element mark = (Element) marks.item(0);
        assertEquals("computer-93281", mark.getAttribute("id"));
        assertEquals("intervirt", mark.getAttribute("owner"), "the owner label: only this agent adopts the domain");
        assertEquals("https://intervirt.dev/agent/1", mark.getNamespaceURI());
        assertNotNull(mark.getPrefix(), "libvirt wants a prefixed metadata element");
    }

    @Test
    void onlyOneInterfaceAndOneFilesystem() throws Exception {
        Element devices = child(parse(DomainXml.domain(spec("n", "id", Path.of("/r"), "ivc1"), "net")).getDocumentElement(),
                "devices");
        assertEquals(1, children(devices, "interface").size());
        assertEquals(1, children(devices, "filesystem").size());
    }

    @Test
    void aComputerWithoutDockerGetsLibvirtsDefaultCapabilitiesAndNoUuid() throws Exception {
        Element d = parse(DomainXml.domain(spec("n", "id", Path.of("/r"), "ivc1"), "net")).getDocumentElement();
        assertEquals(0, children(d, "features").size());
        assertEquals(0, children(d, "uuid").size(), "libvirt picks the uuid of a new domain");
    }

    @Test
    void aComputerWithDockerGetsMknodAndItsOwnDockerDirectoryAndNothingElse() throws Exception {
        Hypervisor.DomainSpec docker = new Hypervisor.DomainSpec("n", "id", Path.of("/s/containers/id/rootfs"),
                new MacAddress("0a:5b:02:67:0c:ff"), "ivc1", 384, null, Path.of("/s/containers/id/docker"));
        Element d = parse(DomainXml.domain(docker, "net", "0b6c6f0e-1111-4222-8333-944455556666")).getDocumentElement();
        assertEquals("0b6c6f0e-1111-4222-8333-944455556666", child(d, "uuid").getTextContent(), "a redefinition keeps the uuid");
        Element caps = child(child(d, "features"), "capabilities");
        assertEquals("default", caps.getAttribute("policy"), "libvirt's drops stay, except the ones listed");
        List<String> granted = new ArrayList<>();
        NodeList all = caps.getChildNodes();
        for (int i = 0; i < all.getLength(); i++) {
            if (all.item(i) instanceof Element e) {
                granted.add(e.getTagName() + "=" + e.getAttribute("state"));
            }
        }
        assertEquals(List.of("mknod=on"), granted);
        List<Element> filesystems = children(child(d, "devices"), "filesystem");
        assertEquals(2, filesystems.size());
        assertEquals("/", child(filesystems.get(0), "target").getAttribute("dir"), "the root comes first");
        assertEquals("/s/containers/id/docker", child(filesystems.get(1), "source").getAttribute("dir"));
        assertEquals("/var/lib/docker", child(filesystems.get(1), "target").getAttribute("dir"));
    }

    @Test
    void xmlSpecialsAreEscapedAndRoundTrip() throws Exception {
        String nasty = "/var/lib/a&b <c> 'd' \"e\" ]]> &amp; --> <!-- x";
        String nastyId = "id\"/><evil a='1'/>&";
        String nastyName = "n</name><name>x ]]> &lt;";
        String nastyPort = "p<&>'\"";
        String nastyNetwork = "net'\"<&>";
        String xml = DomainXml.domain(spec(nastyName, nastyId, Path.of(nasty), nastyPort), nastyNetwork);
        Element d = parse(xml).getDocumentElement();
        assertEquals(nastyName, child(d, "name").getTextContent());
        Element fs = child(child(d, "devices"), "filesystem");
        assertEquals(nasty, child(fs, "source").getAttribute("dir"));
        assertEquals(nastyPort, child(child(child(d, "devices"), "interface"), "target").getAttribute("dev"));
        assertEquals(nastyNetwork, child(child(child(d, "devices"), "interface"), "source").getAttribute("network"));
        Element mark = (Element) child(d, "metadata").getElementsByTagNameNS(DomainXml.METADATA_NS, "container").item(0);
        assertEquals(nastyId, mark.getAttribute("id"));
        assertEquals(0, d.getElementsByTagName("evil").getLength(), "no element injection");
        assertEquals(1, d.getElementsByTagName("name").getLength(), "no element injection");
    }

    @Test
    void networkNameIsThePassedOne() throws Exception {
        Element d = parse(DomainXml.domain(spec("n", "id", Path.of("/r"), "ivc1"), "ivtest")).getDocumentElement();
        assertEquals("ivtest", child(child(child(d, "devices"), "interface"), "source").getAttribute("network"));
    }

    @Test
    void network() throws Exception {
        Element n = parse(DomainXml.network("intervirt", "ivbr0")).getDocumentElement();
        assertEquals("network", n.getTagName());
        assertEquals("intervirt", child(n, "name").getTextContent());
        assertEquals("open", child(n, "forward").getAttribute("mode"));
        Element bridge = child(n, "bridge");
        assertEquals("ivbr0", bridge.getAttribute("name"));
        assertEquals("off", bridge.getAttribute("stp"));
        List<Element> ips = children(n, "ip");
        assertEquals(2, ips.size());
        Element v4 = ips.stream().filter(e -> e.getAttribute("family").isEmpty()).findFirst().orElseThrow();
        assertEquals("169.254.0.1", v4.getAttribute("address"));
        assertEquals("32", v4.getAttribute("prefix"));
        Element v6 = ips.stream().filter(e -> e.getAttribute("family").equals("ipv6")).findFirst().orElseThrow();
        assertEquals("fe80::1", v6.getAttribute("address"));
        assertEquals("64", v6.getAttribute("prefix"));
        assertEquals(0, n.getElementsByTagName("dhcp").getLength(), "no DHCP: containers get fixed addresses");
        assertEquals("no", child(n, "dns").getAttribute("enable"), "no DNS, so libvirt starts no dnsmasq");
    }

    @Test
    void networkBridgeNameIsEscaped() throws Exception {
        Element n = parse(DomainXml.network("n<&>", "br'\"<&>")).getDocumentElement();
        assertEquals("br'\"<&>", child(n, "bridge").getAttribute("name"));
        assertEquals("n<&>", child(n, "name").getTextContent());
    }
}
