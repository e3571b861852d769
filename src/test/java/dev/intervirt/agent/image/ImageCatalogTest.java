package dev.intervirt.agent.image;

import dev.intervirt.agent.value.ImageName;
import org.junit.jupiter.api.Test;

import java.util.Optional;

import static org.junit.jupiter.api.Assertions.*;

/** Product list parsing, the choice of product, version and item, alias resolution. */
class ImageCatalogTest {

    static final String SHA_OLD = "a".repeat(64);
    static final String SHA_NEW = "b".repeat(64);
    static final String SHA_ARM = "c".repeat(64);

    /** Shaped like images.linuxcontainers.org's streams/v1/images.json (trimmed). */
    static final String IMAGES = """
            {"content_id":"images","datatype":"image-downloads","format":"products:1.0","products":{
              "debian:trixie:amd64:default":{"aliases":"debian/trixie/default,debian/trixie,debian/13/default,debian/13",
                "arch":"amd64","os":"Debian","release":"trixie","variant":"default","versions":{
                  "20251123_05:24":{"items":{
                    "root.tar.xz":{"ftype":"root.tar.xz","path":"images/debian/trixie/amd64/default/20251123_05:24/rootfs.tar.xz","sha256":"%1$s","size":100},
                    "lxd.tar.xz":{"ftype":"lxd.tar.xz","path":"images/debian/trixie/amd64/default/20251123_05:24/lxd.tar.xz","sha256":"%1$s","size":1}}},
                  "20251124_05:24":{"items":{
                    "rootfs.squashfs":{"ftype":"squashfs","path":"images/debian/trixie/amd64/default/20251124_05:24/rootfs.squashfs","sha256":"%1$s","size":90},
                    "root.tar.xz":{"ftype":"root.tar.xz","path":"images/debian/trixie/amd64/default/20251124_05:24/rootfs.tar.xz","sha256":"%2$s","size":120}}},
                  "20251122_05:24":{"items":{
                    "root.tar.xz":{"ftype":"root.tar.xz","path":"images/old/rootfs.tar.xz","sha256":"%1$s","size":80}}}}},
              "debian:trixie:amd64:cloud":{"aliases":"debian/trixie/cloud,debian/13/cloud","arch":"amd64","os":"Debian",
                "release":"trixie","variant":"cloud","versions":{"20251130_05:24":{"items":{
                    "root.tar.xz":{"ftype":"root.tar.xz","path":"images/cloud/rootfs.tar.xz","sha256":"%1$s","size":1}}}}},
              "debian:trixie:arm64:default":{"aliases":"debian/trixie/default,debian/trixie,debian/13","arch":"arm64",
                "versions":{"20251130_05:24":{"items":{
                    "root.tar.xz":{"ftype":"root.tar.xz","path":"images/arm/rootfs.tar.xz","sha256":"%3$s","size":1}}}}},
              "alpine:3.22:amd64:default":{"aliases":"alpine/3.22/default,alpine/3.22,alpine/current/default,alpine/current",
                "arch":"amd64","versions":{"20251124_13:00":{"items":{
                    "root.tar.xz":{"ftype":"root.tar.xz","path":"images/alpine/3.22/rootfs.tar.xz","sha256":"%3$s"}}}}},
              "fedora:43:amd64:default":{"aliases":"fedora/43/default,fedora/43","arch":"amd64","versions":{
                  "20251124_20:33":{"items":{"disk.qcow2":{"ftype":"disk-kvm.img","path":"images/fedora/disk.qcow2","sha256":"%1$s"}}}}}
            }}
            """.formatted(SHA_OLD, SHA_NEW, SHA_ARM);

    private static ImageName n(String s) {
        return ImageName.parse(s);
    }

    @Test
    void theNewestVersionsRootTarballOfTheDefaultVariantForThisArchitecture() {
        ImageRelease r = ImageCatalog.parse(IMAGES).find(n("debian/trixie"), "amd64").orElseThrow();
        assertEquals("debian:trixie:amd64:default", r.product());
        assertEquals("20251124_05:24", r.version(), "the newest build date wins, whatever the order in the file");
        assertEquals("images/debian/trixie/amd64/default/20251124_05:24/rootfs.tar.xz", r.path(), "root.tar.xz, not the squashfs");
        assertEquals(SHA_NEW, r.sha256());
        assertEquals(120, r.size());
        assertEquals(n("debian/trixie"), r.name());
    }

    @Test
    void otherArchitecturesAndVariantsAreNotMixedIn() {
        ImageCatalog c = ImageCatalog.parse(IMAGES);
        assertEquals("images/arm/rootfs.tar.xz", c.find(n("debian/trixie"), "arm64").orElseThrow().path());
        assertEquals(Optional.empty(), c.find(n("debian/trixie"), "riscv64"));
    }

    @Test
    void aliasesResolveToTheProductAndItsCanonicalName() {
        ImageCatalog c = ImageCatalog.parse(IMAGES);
        ImageRelease viaNumber = c.find(n("debian/13"), "amd64").orElseThrow();
        assertEquals("debian:trixie:amd64:default", viaNumber.product(), "debian/13 is the default variant, not cloud");
        assertEquals(n("debian/trixie"), viaNumber.name());
        ImageRelease current = c.find(n("alpine/current"), "amd64").orElseThrow();
        assertEquals(n("alpine/3.22"), current.name());
        assertEquals(0, current.size(), "no size published: 0");
    }

    @Test
    void aliasListsAreSplitAndLoseTheDefaultSuffix() {
        var product = jakarta.json.Json.createObjectBuilder().add("aliases", " a/b/default, a/b ,,a/c").build();
        assertEquals(java.util.List.of("a/b", "a/b", "a/c"), ImageCatalog.aliases(product));
    }

    @Test
    void productsWithoutARootTarballOrUnknownAreAbsent() {
        ImageCatalog c = ImageCatalog.parse(IMAGES);
        assertEquals(Optional.empty(), c.find(n("fedora/43"), "amd64"), "a VM-only product has nothing to unpack");
        assertEquals(Optional.empty(), c.find(n("debian/99"), "amd64"));
        assertEquals(Optional.empty(), c.find(n("nosuch/current"), "amd64"));
    }

    @Test
    void anItemWithoutAValidChecksumOrWithAnEscapingPathIsRefused() {
        String badSha = IMAGES.replace(SHA_NEW, "xyz");
        var e = assertThrows(ImageSourceException.class, () -> ImageCatalog.parse(badSha).find(n("debian/trixie"), "amd64"));
        assertTrue(e.getMessage().contains("sha256"), e.getMessage());
        String escaping = IMAGES.replace("images/debian/trixie/amd64/default/20251124_05:24/rootfs.tar.xz", "../../etc/passwd");
        assertThrows(ImageSourceException.class, () -> ImageCatalog.parse(escaping).find(n("debian/trixie"), "amd64"));
    }

    @Test
    void malformedListsAreClearErrors() {
        assertTrue(assertThrows(ImageSourceException.class, () -> ImageCatalog.parse("not json")).getMessage()
                .contains("images.json"));
        assertTrue(assertThrows(ImageSourceException.class, () -> ImageCatalog.parse("{}")).getMessage().contains("products"));
    }

    @Test
    void theIndexPointsToTheImageDownloads() {
        String index = """
                {"format":"index:1.0","index":{
                  "other":{"datatype":"something-else","path":"streams/v1/other.json"},
                  "images":{"datatype":"image-downloads","format":"products:1.0","path":"streams/v1/images.json",
                            "products":["debian:trixie:amd64:default"]}}}
                """;
        assertEquals("streams/v1/images.json", StreamIndex.imagesPath(index));
        assertThrows(ImageSourceException.class, () -> StreamIndex.imagesPath("{\"index\":{}}"));
        assertThrows(ImageSourceException.class, () -> StreamIndex.imagesPath("{\"format\":\"index:1.0\"}"));
    }

    @Test
    void hostArchitectureUsesTheServersNames() {
        assertTrue(java.util.Set.of("amd64", "arm64").contains(ImageCatalog.hostArch()) || !ImageCatalog.hostArch().isEmpty());
        if (System.getProperty("os.arch").equals("amd64")) {
            assertEquals("amd64", ImageCatalog.hostArch());
        }
    }

    @Test
    void versionsCompareNumbersByValue() {
        java.util.List<String> sorted = new java.util.ArrayList<>(java.util.List.of("20240202.10", "20240202.9",
                "20251124_05:24", "20251123_23:59", "20251124_05:24a", "20240202"));
        sorted.sort(VersionOrder.INSTANCE);
        assertEquals(java.util.List.of("20240202", "20240202.9", "20240202.10", "20251123_23:59", "20251124_05:24",
                "20251124_05:24a"), sorted);
        assertEquals(0, VersionOrder.INSTANCE.compare("007", "7"));
    }
}
