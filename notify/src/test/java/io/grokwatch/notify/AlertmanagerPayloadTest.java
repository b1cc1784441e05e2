package io.grokwatch.notify;

import io.grokwatch.records.AlertRecord;
import io.grokwatch.records.RecordFormatException;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.OffsetDateTime;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AlertmanagerPayloadTest {
    private static final ObjectMapper MAPPER = new ObjectMapper();
    static final String ONSET = "{\"runId\":\"ma-1\",\"type\":\"grokking-onset\",\"epoch\":60,\"step\":600,"
            + "\"confidence\":0.51,\"evidence\":{\"signal\":\"second cliff turned to sum/diff\","
            + "\"secondCliffSumDiff\":0.505,\"lowestSoFar\":0.08,\"trainAccuracy\":1.0,\"overlaps\":[0.5,0.51]}}";
    private static final long RAISED = 1_764_090_670_123L; // 2025-11-25T17:11:10.123Z

    private static AlertRecord alert(String json) {
        return AlertRecord.read(json.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    private static JsonNode payload() throws Exception {
        return MAPPER.readTree(AlertmanagerPayload.bytes(alert(ONSET), RAISED, "http://analyzer:9464/metrics"));
    }

    @Test
    void hasTheFieldsOfAnAlertmanagerWebhook() throws Exception {
        JsonNode p = payload();
        assertEquals(new TreeSet<>(Set.of("version", "groupKey", "truncatedAlerts", "status", "receiver",
                "groupLabels", "commonLabels", "commonAnnotations", "externalURL", "alerts")), names(p));
        assertEquals("4", p.get("version").asText());
        assertTrue(p.get("version").isTextual());
        assertEquals("firing", p.get("status").asText());
        assertEquals(0, p.get("truncatedAlerts").asInt());
        assertEquals("http://analyzer:9464/metrics", p.get("externalURL").asText());
        assertEquals("{}:{alertname=\"GrokkingOnset\", run=\"ma-1\"}", p.get("groupKey").asText());
        assertEquals(Map.of("alertname", "GrokkingOnset", "run", "ma-1"), MAPPER.convertValue(p.get("groupLabels"),
                Map.class));
        assertEquals(1, p.get("alerts").size());
        JsonNode a = p.get("alerts").get(0);
        assertEquals(new TreeSet<>(Set.of("status", "labels", "annotations", "startsAt", "endsAt", "generatorURL",
                "fingerprint")), names(a));
        assertEquals("firing", a.get("status").asText());
        assertEquals(Map.of("alertname", "GrokkingOnset", "run", "ma-1", "type", "grokking-onset", "severity", "info"),
                MAPPER.convertValue(a.get("labels"), Map.class));
        assertEquals(a.get("labels"), p.get("commonLabels"));
        assertEquals(a.get("annotations"), p.get("commonAnnotations"));
        JsonNode an = a.get("annotations");
        an.properties().forEach(e -> assertTrue(e.getValue().isTextual(), "annotation " + e.getKey() + " is a string"));
        assertEquals("60", an.get("epoch").asText());
        assertEquals("600", an.get("step").asText());
        assertEquals("0.51", an.get("confidence").asText());
        assertEquals("ma-1", an.get("runId").asText());
        assertEquals("0.505", an.get("evidence_secondCliffSumDiff").asText());
        assertEquals("1.0", an.get("evidence_trainAccuracy").asText());
        assertEquals("[0.5,0.51]", an.get("evidence_overlaps").asText());
        assertEquals(AlertmanagerPayload.idempotencyKey("ma-1", "grokking-onset", 600), an.get("idempotencyKey").asText());
        assertTrue(an.get("summary").asText().contains("ma-1"), an.toString());
        assertTrue(an.get("description").asText().contains("second cliff turned to sum/diff"), an.toString());
        assertEquals("http://analyzer:9464/metrics", a.get("generatorURL").asText());
    }

    @Test
    void timesAreRfc3339Utc() throws Exception {
        JsonNode a = payload().get("alerts").get(0);
        assertEquals("2025-11-25T17:11:10.123Z", a.get("startsAt").asText());
        assertEquals(RAISED, OffsetDateTime.parse(a.get("startsAt").asText()).toInstant().toEpochMilli());
        assertEquals("0001-01-01T00:00:00Z", a.get("endsAt").asText());
        OffsetDateTime.parse(a.get("endsAt").asText());
        assertEquals("2025-11-25T17:11:10Z", AlertmanagerPayload.rfc3339(1_764_090_670_000L));
    }

    @Test
    void sameRecordGivesTheSameBytes() throws Exception {
        assertArrayEquals(AlertmanagerPayload.bytes(alert(ONSET), RAISED, ""),
                AlertmanagerPayload.bytes(alert(ONSET), RAISED, ""));
    }

    @Test
    void fingerprintIsSha256OfTheSortedLabelsAndStable() throws Exception {
        String expected = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(
                "alertname=GrokkingOnset\nrun=ma-1\nseverity=info\ntype=grokking-onset\n"
                        .getBytes(StandardCharsets.UTF_8))).substring(0, 16);
        assertEquals(expected, payload().get("alerts").get(0).get("fingerprint").asText());
        // Identity of the alert (its labels), not of one firing: the step does not change it.
        String later = ONSET.replace("\"step\":600", "\"step\":700");
        assertEquals(expected, MAPPER.readTree(AlertmanagerPayload.bytes(alert(later), RAISED + 5000, ""))
                .get("alerts").get(0).get("fingerprint").asText());
        String otherRun = ONSET.replace("ma-1", "ma-2");
        assertNotEquals(expected, MAPPER.readTree(AlertmanagerPayload.bytes(alert(otherRun), RAISED, ""))
                .get("alerts").get(0).get("fingerprint").asText());
    }

    @Test
    void idempotencyKeyDependsOnRunTypeAndStepOnly() {
        String k = AlertmanagerPayload.idempotencyKey("ma-1", "grokking-onset", 600);
        assertTrue(k.matches("gw-[0-9a-f]{32}"), k);
        assertEquals(k, AlertmanagerPayload.idempotencyKey("ma-1", "grokking-onset", 600));
        assertEquals(4, Set.of(k, AlertmanagerPayload.idempotencyKey("ma-2", "grokking-onset", 600),
                AlertmanagerPayload.idempotencyKey("ma-1", "spectral-gap", 600),
                AlertmanagerPayload.idempotencyKey("ma-1", "grokking-onset", 601)).size());
        // The separator keeps field boundaries: "a"+"b-c" differs from "a-b"+"c".
        assertNotEquals(AlertmanagerPayload.idempotencyKey("a", "b-c", 1), AlertmanagerPayload.idempotencyKey("a-b", "c", 1));
    }

    @Test
    void alertNamesAreCamelCaseTypes() {
        assertEquals(List.of("GrokkingOnset", "Generalization", "SpectralGap"),
                List.of("grokking-onset", "generalization", "spectral-gap").stream()
                        .map(AlertmanagerPayload::alertName).toList());
    }

    @Test
    void aResolvedAlertSaysSoWithItsEndAndAKeyOfItsOwn() throws Exception {
        AlertRecord firing = alert("{\"runId\":\"ma-1\",\"type\":\"grokking-onset\",\"epoch\":60,\"step\":600,"
                + "\"confidence\":0.7,\"evidence\":{\"signal\":\"s\"}}");
        AlertRecord resolved = firing.resolve(io.grokwatch.records.Evidence.of("the run ended (completed)").build());
        JsonNode p = AlertmanagerPayload.build(resolved, 1_796_553_000_000L, "");
        assertEquals("resolved", p.get("status").asText());
        JsonNode a = p.get("alerts").get(0);
        assertEquals("resolved", a.get("status").asText());
        assertEquals("2026-12-06T10:30:00Z", a.get("endsAt").asText());
        assertEquals(AlertmanagerPayload.build(firing, 0, "").get("alerts").get(0).get("fingerprint"),
                a.get("fingerprint"), "the same alert to Alertmanager's receivers: the same labels");
        assertNotEquals(AlertmanagerPayload.idempotencyKey(firing), AlertmanagerPayload.idempotencyKey(resolved),
                "not a repeat of the firing one");
        assertEquals(AlertmanagerPayload.idempotencyKey("ma-1", "grokking-onset", 600),
                AlertmanagerPayload.idempotencyKey(firing));
    }

    @Test
    void malformedAlertsAreNamed() {
        RecordFormatException e = assertThrows(RecordFormatException.class,
                () -> alert("{\"runId\":\"r\",\"type\":\"spectral-gap\",\"epoch\":1}"));
        assertTrue(e.getMessage().contains("step"), e.getMessage());
        assertThrows(RecordFormatException.class, () -> alert("{\"type\":\"x\",\"epoch\":1,\"step\":1}"));
        assertThrows(RecordFormatException.class, () -> alert("[1]"));
    }

    private static Set<String> names(JsonNode o) {
        Set<String> s = new TreeSet<>();
        o.fieldNames().forEachRemaining(s::add);
        return s;
    }
}
