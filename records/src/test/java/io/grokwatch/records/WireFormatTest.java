package io.grokwatch.records;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The topics' JSON as the analyzer wrote it before records carried a schema version (the fixtures under
 * {@code records/}), read into the typed records and written back field for field. A component renamed, retyped or
 * dropped fails here, which is the point: the wire format changes only with a version bump.
 */
class WireFormatTest {
    private static byte[] fixture(String name) throws IOException {
        try (InputStream in = WireFormatTest.class.getResourceAsStream("/records/" + name)) {
            if (in == null) {
                throw new IOException("no fixture " + name);
            }
            return in.readAllBytes();
        }
    }

    /** Written back, the record is its fixture plus the schema version, exactly (numbers compared as numbers). */
    private static void assertWrittenBackAsRead(byte[] fixture, byte[] written) throws IOException {
        ObjectNode expected = (ObjectNode) WireJson.MAPPER.readTree(fixture);
        expected.put(WireJson.SCHEMA, 1);
        removeNulls(expected);
        JsonNode actual = WireJson.MAPPER.readTree(written);
        assertTrue(sameJson(expected, actual), "expected\n" + expected.toPrettyString() + "\nwritten\n"
                + actual.toPrettyString());
    }

    private static void removeNulls(JsonNode n) {
        if (n instanceof ObjectNode o) {
            for (Iterator<Map.Entry<String, JsonNode>> it = o.properties().iterator(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                if (e.getValue().isNull()) {
                    it.remove();
                } else {
                    removeNulls(e.getValue());
                }
            }
        } else if (n.isArray()) {
            n.forEach(WireFormatTest::removeNulls);
        }
    }

    /** Equal trees, with numbers equal by value (1 and 1.0 are the same number on the wire). */
    private static boolean sameJson(JsonNode a, JsonNode b) {
        if (a.isNumber() && b.isNumber()) {
            return a.decimalValue().compareTo(b.decimalValue()) == 0;
        }
        if (a.isObject() && b.isObject()) {
            if (a.size() != b.size()) {
                return false;
            }
            for (Iterator<Map.Entry<String, JsonNode>> it = a.properties().iterator(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                if (!b.has(e.getKey()) || !sameJson(e.getValue(), b.get(e.getKey()))) {
                    return false;
                }
            }
            return true;
        }
        if (a.isArray() && b.isArray()) {
            if (a.size() != b.size()) {
                return false;
            }
            for (int i = 0; i < a.size(); i++) {
                if (!sameJson(a.get(i), b.get(i))) {
                    return false;
                }
            }
            return true;
        }
        return a.equals(b);
    }

    @Test
    void aModularAdditionSpectrumReadsIntoItsFieldsAndWritesBackUnchanged() throws IOException {
        byte[] bytes = fixture("spectrum-modular-addition.json");
        SpectrumRecord s = SpectrumRecord.read(bytes);
        assertEquals(1, s.schemaVersion(), "a record without the field is version 1");
        assertEquals("ma-29", s.runId());
        assertEquals(1510, s.step());
        assertEquals(150, s.epoch());
        assertEquals(0.61, s.testAccuracy());
        assertArrayEquals(new double[] {0.0731, 0.0729, 0.0012, 0.0011}, s.whole().eigenvalues());
        assertEquals(0.71, s.whole().overlap("secondCliff", "sum"));
        assertEquals(1.08, s.whole().gap("endOfSecondCliff"));
        assertEquals(new KernelSpectrum.Cliff(111, 31.5), s.whole().cliffs().get(0));
        assertEquals(0.042, s.whole().drift());
        assertEquals(new KernelSpectrum.Solve("warm", false, 4, 3.1e-11, "float64"), s.whole().solve());
        assertEquals(java.util.List.of("net.0", "net.3"), java.util.List.copyOf(s.layers().keySet()));
        assertTrue(s.layers().get("net.0").solve().fellBack());
        assertNull(s.layers().get("net.0").drift());
        assertEquals(new SpectrumRecord.Computed("exact", 841, 841, 29, 44544, null), s.computed());
        assertEquals(2, s.supersededCheckpoints());
        assertEquals(0.19, s.timings().producedToResultSeconds());
        assertEquals(3L, s.pace().epochsPerCheckpointToKeepUp());
        assertNull(s.replay());
        assertWrittenBackAsRead(bytes, s.toBytes());
    }

    @Test
    void theTmsHeatmapFamilyProfileAndReplayFieldsRoundTrip() throws IOException {
        byte[] bytes = fixture("spectrum-onnx-tms.json");
        SpectrumRecord s = SpectrumRecord.read(bytes);
        assertEquals(2, s.whole().recoveredFeatures());
        assertArrayEquals(new int[] {3, 7, 1}, s.whole().heatmapArgmax());
        assertEquals(new KernelSpectrum.FamilyProfile.Band(0, 2, 0.1, 0.2, 0.6, 0.05),
                s.whole().familyProfile().bands().get(0));
        assertEquals("batched", s.computed().passes());
        assertNull(s.testAccuracy(), "not reported");
        assertTrue(Double.isNaN(SpectrumRecord.orNaN(s.testLoss())));
        assertNull(s.whole().overlaps(), "no families");
        assertTrue(Double.isNaN(s.whole().overlap("secondCliff", "sum")));
        assertNull(s.layers());
        assertNull(s.pace());
        assertEquals(Boolean.TRUE, s.replay());
        assertWrittenBackAsRead(bytes, s.toBytes());
    }

    @Test
    void alertsKeepTheirEvidenceInOrderBesideTheSignal() throws IOException {
        byte[] bytes = fixture("alert-grokking-onset.json");
        AlertRecord a = AlertRecord.read(bytes);
        assertEquals("grokking-onset", a.type());
        assertEquals(140, a.epoch());
        assertEquals(1410, a.step());
        assertEquals(0.83, a.confidence());
        assertEquals("second-cliff eigenspace aligns with the sum/diff Fourier modes", a.evidence().signal());
        assertEquals(0.63, a.evidence().number("secondCliffSumDiff"));
        assertEquals(java.util.List.of("secondCliffSum", "secondCliffDiff", "secondCliffSumDiff", "threshold",
                "lowestSoFar", "trainAccuracy", "risePerEpoch"), java.util.List.copyOf(a.evidence().values().keySet()));
        assertWrittenBackAsRead(bytes, a.toBytes());

        byte[] nonFinite = fixture("alert-non-finite.json");
        AlertRecord n = AlertRecord.read(nonFinite);
        assertEquals("tensor net.0.weight holds NaN at [3, 7]", n.evidence().values().get("detail"));
        assertTrue(Double.isNaN(n.evidence().number("detail")), "a word is not a number");
        assertWrittenBackAsRead(nonFinite, n.toBytes());
    }

    @Test
    void deadLettersKeepTheRecordOrItsDigest() throws IOException {
        byte[] kept = fixture("dead-letter-kept.json");
        DeadLetterRecord d = DeadLetterRecord.read(kept);
        assertEquals("corrupt-checkpoint", d.reason());
        assertEquals(41L, d.offset());
        assertArrayEquals(new byte[] {0, 1, 2, 3}, java.util.Base64.getDecoder().decode(d.originalBase64()));
        assertNull(d.originalSha256());
        assertWrittenBackAsRead(kept, d.toBytes());

        byte[] digest = fixture("dead-letter-digest.json");
        DeadLetterRecord big = DeadLetterRecord.read(digest);
        assertNull(big.key());
        assertNull(big.sourceTopic());
        assertEquals(14_000_000, big.originalBytes());
        assertWrittenBackAsRead(digest, big.toBytes());
    }

    @Test
    void aRecordOfANewerSchemaOrNotOfItsTypeIsRefusedByName() {
        byte[] newer = "{\"schemaVersion\": 2, \"runId\": \"r\", \"type\": \"x\"}".getBytes(StandardCharsets.UTF_8);
        RecordFormatException e = assertThrows(RecordFormatException.class, () -> AlertRecord.read(newer));
        assertTrue(e.getMessage().contains("schemaVersion 2") && e.getMessage().contains("reads 1 to 1"),
                e.getMessage());
        assertThrows(RecordFormatException.class, () -> AlertRecord.read("{\"type\": \"x\"}".getBytes(
                StandardCharsets.UTF_8)), "no run id");
        assertThrows(RecordFormatException.class, () -> SpectrumRecord.read("[1, 2]".getBytes(StandardCharsets.UTF_8)));
        assertThrows(RecordFormatException.class, () -> SpectrumRecord.read("{\"runId\": \"r\"}".getBytes(
                StandardCharsets.UTF_8)), "no eigenvalues");
        assertThrows(RecordFormatException.class, () -> DeadLetterRecord.read("not json".getBytes(
                StandardCharsets.UTF_8)));
    }

    @Test
    void aFieldAddedByALaterVersionOfTheSameSchemaIsIgnored() {
        AlertRecord a = AlertRecord.read(("{\"schemaVersion\": 1, \"runId\": \"r\", \"type\": \"generalization\", "
                + "\"epoch\": 3, \"step\": 30, \"confidence\": 1.0, \"evidence\": {\"signal\": \"s\"}, "
                + "\"severity\": \"page\"}").getBytes(StandardCharsets.UTF_8));
        assertEquals(30, a.step());
        assertFalse(new String(a.toBytes(), StandardCharsets.UTF_8).contains("severity"));
    }

    @Test
    void evidenceTakesNumbersWordsAndFlagsOnlyAndNonFiniteNumbersAsWords() {
        Evidence e = Evidence.of("s").put("loss", Double.POSITIVE_INFINITY).put("n", 3L).put("what", "x").build();
        assertEquals("Infinity", e.values().get("loss"));
        assertEquals(3L, e.values().get("n"));
        assertThrows(IllegalArgumentException.class, () -> new Evidence("s", Map.of("m", new Object())));
        Evidence nested = new Evidence("s", Map.of("m", java.util.List.of(1, 2)));
        assertEquals("[1,2]", nested.text("m"));
        assertThrows(UnsupportedOperationException.class, () -> e.values().put("x", 1));
    }

    @Test
    void aRunsEndAndAResolvedAlertRoundTrip() throws IOException {
        byte[] end = fixture("run-end.json");
        RunEndRecord e = RunEndRecord.read(end);
        assertEquals(RunEndRecord.COMPLETED, e.status());
        assertEquals(4990, e.lastStep());
        assertWrittenBackAsRead(end, e.toBytes());
        RecordFormatException bad = assertThrows(RecordFormatException.class, () -> RunEndRecord.read(
                "{\"runId\": \"r\", \"status\": \"done\"}".getBytes(StandardCharsets.UTF_8)));
        assertTrue(bad.getMessage().contains("completed, stopped, failed"), bad.getMessage());

        byte[] resolved = fixture("alert-resolved.json");
        AlertRecord a = AlertRecord.read(resolved);
        assertTrue(a.resolved());
        assertWrittenBackAsRead(resolved, a.toBytes());
        AlertRecord firing = AlertRecord.read(fixture("alert-grokking-onset.json"));
        assertFalse(firing.resolved(), "no status: firing, as before the field existed");
        assertFalse(new String(firing.toBytes(), StandardCharsets.UTF_8).contains("status"));
    }
}
