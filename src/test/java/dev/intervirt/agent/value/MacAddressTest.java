package dev.intervirt.agent.value;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.NullSource;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.*;

class MacAddressTest {

    @ParameterizedTest
    @CsvSource({
            "a:5b:2:67:c:ff, 0a:5b:02:67:0c:ff",
            "2A:5B:22:67:67:67, 2a:5b:22:67:67:67",
            "0:0:0:0:0:1, 00:00:00:00:00:01",
            "Fe:dC:bA:98:76:54, fe:dc:ba:98:76:54",
            "00:00:00:00:00:00, 00:00:00:00:00:00"})
    void parseLooseNormalises(String in, String canonical) {
        MacAddress m = MacAddress.parseLoose(in);
        assertNotNull(m, in);
        assertEquals(canonical, m.canonical());
        assertEquals(canonical, m.toString());
    }

    @ParameterizedTest
    @NullSource
    @ValueSource(strings = {"", "a:5b:2:67:c", "a:5b:2:67:c:ff:00", "a:5b:2:67:c:fff", "g1:5b:2:67:c:ff", "a-5b-2-67-c-ff",
            "0a5b02670cff", "a:5b:2:67:c:", "::5b:2:67:c:ff", " a:5b:2:67:c:ff", "a:5b:2:67:c:ff ", "a:5b:2:67:c:ff\n",
            "0x0a:5b:2:67:c:ff", "０a:5b:2:67:c:ff"})
    void parseLooseRejectsMalformed(String in) {
        assertNull(MacAddress.parseLoose(in), in);
    }

    @ParameterizedTest
    @ValueSource(strings = {"0a:5b:02:67:0c:FF", "a:5b:02:67:0c:ff", "0a-5b-02-67-0c-ff", "0a:5b:02:67:0c:ff:00", ""})
    void constructorWantsCanonical(String in) {
        assertThrows(IllegalArgumentException.class, () -> new MacAddress(in));
    }

    @Test
    void bytes() {
        assertArrayEquals(new byte[]{0x0a, 0x5b, 0x02, 0x67, 0x0c, (byte) 0xff}, new MacAddress("0a:5b:02:67:0c:ff").bytes());
    }

    @Test
    void zero() {
        assertTrue(new MacAddress("00:00:00:00:00:00").isZero());
        assertFalse(new MacAddress("00:00:00:00:00:01").isZero());
        assertFalse(new MacAddress("01:00:00:00:00:00").isZero());
    }

    @ParameterizedTest
    @CsvSource({"0b:5b:02:67:0c:ff, true", "0a:5b:02:67:0c:ff, false", "01:00:5e:00:00:01, true",
            "ff:ff:ff:ff:ff:ff, true", "fe:ff:ff:ff:ff:ff, false", "02:00:00:00:00:00, false", "03:00:00:00:00:00, true"})
    void groupBit(String mac, boolean group) {
        assertEquals(group, new MacAddress(mac).isGroup());
    }

    @Test
    void clearingTheGroupBitChangesOnlyThatBit() {
        assertEquals(new MacAddress("0a:5b:02:67:0c:ff"), new MacAddress("0b:5b:02:67:0c:ff").withGroupBitCleared());
        assertEquals(new MacAddress("fe:ff:ff:ff:ff:ff"), new MacAddress("ff:ff:ff:ff:ff:ff").withGroupBitCleared());
        assertEquals(new MacAddress("0a:5b:02:67:0c:ff"), new MacAddress("0a:5b:02:67:0c:ff").withGroupBitCleared());
        assertFalse(new MacAddress("03:00:00:00:00:07").withGroupBitCleared().isGroup());
        assertEquals("02:00:00:00:00:07", new MacAddress("03:00:00:00:00:07").withGroupBitCleared().canonical());
    }

    @Test
    void equalityIsOnTheCanonicalForm() {
        assertEquals(MacAddress.parseLoose("A:5B:2:67:C:FF"), MacAddress.parseLoose("0a:5b:02:67:0c:ff"));
        assertEquals(MacAddress.parseLoose("A:5B:2:67:C:FF").hashCode(), MacAddress.parseLoose("0a:5b:02:67:0c:ff").hashCode());
        assertNotEquals(MacAddress.parseLoose("0a:5b:02:67:0c:fe"), MacAddress.parseLoose("0a:5b:02:67:0c:ff"));
    }
}
