package io.grokwatch.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class TopicsTest {

    @Test
    void defaultsAreTheDocumentedNames() {
        Topics t = Topics.defaults();
        assertEquals("grokwatch.runs", t.runs());
        assertEquals("grokwatch.checkpoints", t.checkpoints());
        assertEquals("grokwatch.spectra", t.spectra());
        assertEquals("grokwatch.alerts", t.alerts());
        assertEquals("grokwatch.dead-letter", t.deadLetter());
        assertEquals(t, Topics.fromMap(Map.of()));
    }

    @Test
    void fromMapOverridesOnlyGivenKeysAndIgnoresOtherNamespaces() {
        Topics t = Topics.fromMap(Map.of("topic.checkpoints", "exp1.ckpt", "analyzer.threads", "4"));
        assertEquals("exp1.ckpt", t.checkpoints());
        assertEquals(Topics.DEFAULT_RUNS, t.runs());
        assertEquals(t, Topics.fromMap(t.toMap()));
    }

    @Test
    void unknownTopicKeyIsNamedWithTheKnownKeys() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Topics.fromMap(Map.of("topic.checkpoint", "x")));
        assertTrue(e.getMessage().contains("'topic.checkpoint'"), e.getMessage());
        assertTrue(e.getMessage().contains("topic.checkpoints"), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", ".", "..", "has space", "slash/name", "ümlaut", "colon:x"})
    void illegalNamesAreRejectedNamingKeyAndAllowedValues(String name) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Topics.fromMap(Map.of("topic.spectra", name)));
        assertTrue(e.getMessage().startsWith("topic.spectra: "), e.getMessage());
        assertTrue(e.getMessage().contains("allowed: 1..249 of ASCII letters"), e.getMessage());
    }

    @Test
    void lengthLimitIs249() {
        Topics.fromMap(Map.of("topic.alerts", "a".repeat(249)));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Topics.fromMap(Map.of("topic.alerts", "a".repeat(250))));
        assertTrue(e.getMessage().contains("length 250"), e.getMessage());
    }

    @Test
    void nullAndDuplicateNamesAreRejected() {
        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
                () -> new Topics("a", null, "c", "d", "e"));
        assertTrue(missing.getMessage().startsWith("topic.checkpoints: "), missing.getMessage());
        Map<String, String> dup = new HashMap<>();
        dup.put("topic.alerts", "grokwatch.spectra");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Topics.fromMap(dup));
        assertTrue(e.getMessage().contains("topic.alerts") && e.getMessage().contains("topic.spectra"),
                e.getMessage());
    }
}
