package io.grokwatch.ui;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.util.Map;

/**
 * How the page reads JSON: the spectra and alerts are the typed records of {@code io.grokwatch.records}, read leniently
 * (fields the page does not know are ignored), and of a run descriptor it takes only its task.
 */
public final class Records {
    /** Lenient about fields it does not know: the formats grow. */
    public static final ObjectMapper MAPPER = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    private Records() {
    }

    /** What the page takes from a run descriptor (grokwatch.run/v1): its task and the task's parameters. */
    public record Descriptor(String runId, Map<String, String> task) {
    }
}
