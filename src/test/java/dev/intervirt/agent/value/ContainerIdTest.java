package dev.intervirt.agent.value;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.NullSource;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.*;

class ContainerIdTest {

    @ParameterizedTest
    @ValueSource(strings = {"computer-0", "computer-93281", "computer-999998", "a", "Z", "9", "_", "_x", "a.b", "a-b",
            "a_b", "A.b-C_d.", "x..y", "a-"})
    void valid(String id) {
        assertTrue(ContainerId.isValid(id), id);
    }

    @Test
    void lengthLimitIs63() {
        assertTrue(ContainerId.isValid("x".repeat(63)));
        assertFalse(ContainerId.isValid("x".repeat(64)));
        assertTrue(ContainerId.isValid("computer-" + "1".repeat(54)));
        assertFalse(ContainerId.isValid("computer-" + "1".repeat(55)));
    }

    @ParameterizedTest
    @NullSource
    @ValueSource(strings = {"", ".", "..", "../x", ".hidden", "-x", "--rm", "a/b", "/a", "a b", " a", "a ", "a\tb", "a\nb",
            "a\u0000b", "a\\b", "a:b", "a;b", "a$b", "a*b", "é", "computer-1é", "\u0441omputer", "a\u202eb", "a\u200bb",
            "１", "a%2e"})
    void invalid(String id) {
        assertFalse(ContainerId.isValid(id), id);
    }
}
