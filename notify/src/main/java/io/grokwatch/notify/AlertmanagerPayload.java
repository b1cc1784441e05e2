package io.grokwatch.notify;

import io.grokwatch.records.AlertRecord;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * One alert of the alerts topic as the body of an Alertmanager webhook (payload {@code version} "4"), so a
 * receiver written for Alertmanager accepts it unchanged. The body is a pure function of the alert record (its
 * JSON and Kafka timestamp) and the external URL: a redelivery sends the same bytes.
 *
 * <ul>
 *   <li>labels: {@code alertname} (the type in CamelCase, e.g. {@code GrokkingOnset}), {@code run}, {@code type},
 *       {@code severity} ({@value #SEVERITY}: grokking is news, not an outage);</li>
 *   <li>annotations: {@code summary}, {@code description}, {@code runId}, {@code epoch}, {@code step},
 *       {@code confidence}, {@code idempotencyKey} and every evidence field as {@code evidence_<name>}, all
 *       strings;</li>
 *   <li>{@code startsAt}: the record's timestamp (when the checkpoint that raised it was produced), RFC 3339 UTC;
 *       {@code endsAt} the zero time Alertmanager sends for an alert without an end;</li>
 *   <li>{@code fingerprint}: the first 16 hex digits of SHA-256 over the sorted labels, {@code name=value}
 *       lines: the same for every alert of one type and run, as Alertmanager's is for one label set.</li>
 * </ul>
 */
public final class AlertmanagerPayload {
    public static final String VERSION = "4";
    public static final String RECEIVER = "grokwatch";
    public static final String SEVERITY = "info";
    /** Alertmanager's {@code endsAt} for an alert that has not resolved. */
    public static final String NO_END = "0001-01-01T00:00:00Z";

    private static final ObjectMapper MAPPER = new ObjectMapper();

    private AlertmanagerPayload() {
    }

    /** The payload as UTF-8 JSON bytes: what is sent and signed. */
    public static byte[] bytes(AlertRecord alert, long raisedAtMillis, String externalUrl) {
        try {
            return MAPPER.writeValueAsBytes(build(alert, raisedAtMillis, externalUrl));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("cannot serialise a JSON tree: " + e.getMessage(), e);
        }
    }

    /** The payload of one alert, raised at {@code raisedAtMillis} (epoch ms). */
    public static ObjectNode build(AlertRecord alert, long raisedAtMillis, String externalUrl) {
        String url = externalUrl == null ? "" : externalUrl;
        Map<String, String> labels = labels(alert);
        Map<String, String> annotations = annotations(alert);
        JsonNodeFactory f = JsonNodeFactory.instance;
        ObjectNode a = f.objectNode();
        String status = alert.resolved() ? AlertRecord.RESOLVED : AlertRecord.FIRING;
        a.put("status", status);
        a.set("labels", object(labels));
        a.set("annotations", object(annotations));
        // A resolved alert is known from when it cleared: Alertmanager's receivers match it to the firing one by
        // its fingerprint (the same labels), not by its start.
        a.put("startsAt", rfc3339(raisedAtMillis));
        a.put("endsAt", alert.resolved() ? rfc3339(raisedAtMillis) : NO_END);
        a.put("generatorURL", url);
        a.put("fingerprint", fingerprint(labels));

        Map<String, String> groupLabels = new LinkedHashMap<>();
        groupLabels.put("alertname", labels.get("alertname"));
        groupLabels.put("run", labels.get("run"));
        ObjectNode p = f.objectNode();
        p.put("receiver", RECEIVER);
        p.put("status", status);
        p.putArray("alerts").add(a);
        p.set("groupLabels", object(groupLabels));
        p.set("commonLabels", object(labels));
        p.set("commonAnnotations", object(annotations));
        p.put("externalURL", url);
        p.put("version", VERSION);
        p.put("groupKey", "{}:{alertname=" + quote(labels.get("alertname")) + ", run=" + quote(labels.get("run"))
                + "}");
        p.put("truncatedAlerts", 0);
        return p;
    }

    /** {@code alertname}, {@code run}, {@code type}, {@code severity}, in that order. */
    public static Map<String, String> labels(AlertRecord alert) {
        Map<String, String> labels = new LinkedHashMap<>();
        labels.put("alertname", alertName(alert.type()));
        labels.put("run", alert.runId());
        labels.put("type", alert.type());
        labels.put("severity", SEVERITY);
        return labels;
    }

    /**
     * A key that is the same for every delivery of one alert and differs between alerts: {@code gw-} and 32 hex
     * digits of SHA-256 over run id, type and step separated by NUL (which none of them can contain unescaped), and
     * for a resolved alert also {@code resolved}, so that it is not taken for a repeat of the firing one.
     */
    public static String idempotencyKey(AlertRecord alert) {
        return alert.resolved() ? key(alert.runId(), alert.type(), alert.step() + "\0" + AlertRecord.RESOLVED)
                : idempotencyKey(alert.runId(), alert.type(), alert.step());
    }

    /** The key of a firing alert. */
    public static String idempotencyKey(String runId, String type, long step) {
        return key(runId, type, Long.toString(step));
    }

    private static String key(String runId, String type, String rest) {
        return "gw-" + sha256Hex(runId + '\0' + type + '\0' + rest).substring(0, 32);
    }

    /** 16 hex digits of SHA-256 over {@code name=value\n} of the labels sorted by name. */
    public static String fingerprint(Map<String, String> labels) {
        StringBuilder sb = new StringBuilder();
        new TreeMap<>(labels).forEach((k, v) -> sb.append(k).append('=').append(v).append('\n'));
        return sha256Hex(sb.toString()).substring(0, 16);
    }

    /** {@code grokking-onset} -> {@code GrokkingOnset}. */
    static String alertName(String type) {
        StringBuilder sb = new StringBuilder();
        boolean upper = true;
        for (char c : type.toCharArray()) {
            if (Character.isLetterOrDigit(c)) {
                sb.append(upper ? Character.toUpperCase(c) : c);
                upper = false;
            } else {
                upper = true;
            }
        }
        return sb.length() == 0 ? "GrokwatchAlert" : sb.toString();
    }

    /** RFC 3339 in UTC with millisecond precision when there is any, e.g. {@code 2026-11-25T17:11:10.123Z}. */
    static String rfc3339(long millis) {
        return DateTimeFormatter.ISO_INSTANT.format(Instant.ofEpochMilli(millis));
    }

    private static Map<String, String> annotations(AlertRecord alert) {
        Map<String, String> an = new LinkedHashMap<>();
        an.put("summary", summary(alert));
        an.put("description", description(alert));
        an.put("runId", alert.runId());
        an.put("epoch", Long.toString(alert.epoch()));
        an.put("step", Long.toString(alert.step()));
        an.put("confidence", Double.isNaN(alert.confidence()) ? "" : Double.toString(alert.confidence()));
        an.put("idempotencyKey", idempotencyKey(alert));
        if (!alert.evidence().signal().isEmpty()) {
            an.put("evidence_signal", alert.evidence().signal());
        }
        alert.evidence().values().keySet().forEach(k -> an.put("evidence_" + k.replaceAll("[^A-Za-z0-9_]", "_"),
                alert.evidence().text(k)));
        return an;
    }

    private static String summary(AlertRecord a) {
        return switch (a.type()) {
            case "grokking-onset" -> "Run " + a.runId() + " has started to grok (epoch " + a.epoch() + ")";
            case "grokking-onset-general" -> "Run " + a.runId() + " has started to grok: held-out inputs begin to look "
                    + "like training inputs (epoch " + a.epoch() + ")";
            case "generalization" -> "Run " + a.runId() + " generalises: test accuracy jumped (epoch " + a.epoch()
                    + ")";
            case "spectral-gap" -> "Run " + a.runId() + ": a new gap opened in the eNTK spectrum (epoch " + a.epoch()
                    + ")";
            case "diverging" -> "Run " + a.runId() + " is diverging: its training loss rose far above its best (epoch "
                    + a.epoch() + ")";
            case "non-finite" -> "Run " + a.runId() + " blew up: a checkpoint's weights are NaN or infinite (step "
                    + a.step() + ")";
            case "collapse" -> "Run " + a.runId() + " collapsed: its accuracy fell well below its best (epoch "
                    + a.epoch() + ")";
            default -> "Run " + a.runId() + ": " + a.type() + " (epoch " + a.epoch() + ")";
        };
    }

    private static String description(AlertRecord a) {
        String signal = a.evidence().signal();
        String confidence = Double.isNaN(a.confidence()) ? "unknown"
                : String.format(Locale.ROOT, "%.2f", a.confidence());
        return "grokwatch raised " + a.type() + " for run " + a.runId() + " at epoch " + a.epoch() + ", step "
                + a.step() + " (confidence " + confidence + ")" + (signal.isEmpty() ? "" : ": " + signal) + ".";
    }

    private static ObjectNode object(Map<String, String> map) {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        map.forEach(o::put);
        return o;
    }

    private static String quote(String s) {
        return '"' + s.replace("\\", "\\\\").replace("\"", "\\\"") + '"';
    }

    static String sha256Hex(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 unavailable", e);
        }
    }
}
