package io.grokwatch.detect;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GeneralOnsetDetectorTest {
    // Measured traces (evaluate-detector --suite tuning), every 10 epochs:
    // {train accuracy, output held-out confidence, kernel held-out confidence, label alignment}.
    // a+b, p = 29, alpha 0.7, seed 0: held-out accuracy crosses 0.1 at epoch 80 and 0.9 at 100.
    private static final double[][] GROKKING = {{0.034, 1.020, 0.0326, 0.077}, {0.3844, 0.731, 0.0352, 0.084},
            {0.8231, 0.323, 0.0369, 0.098}, {0.9558, 0.255, 0.0400, 0.124}, {1, 0.136, 0.0414, 0.153},
            {1, 0.100, 0.0402, 0.179}, {1, 0.083, 0.0408, 0.201}, {1, 0.069, 0.0584, 0.218},
            {1, 0.074, 0.1113, 0.231}, {1, 0.139, 0.1776, 0.236}, {1, 0.193, 0.2287, 0.237}};
    // Random labels, p = 29: memorises, never generalises.
    private static final double[][] RANDOM_LABELS = {{0.0357, 1.020, 0.0476, 0.112}, {0.4932, 0.683, 0.0507, 0.121},
            {0.5561, 0.760, 0.0535, 0.138}, {0.4966, 0.821, 0.0569, 0.164}, {0.835, 0.531, 0.0576, 0.187},
            {0.9796, 0.255, 0.0560, 0.204}, {1, 0.183, 0.0541, 0.216}, {1, 0.124, 0.0517, 0.222},
            {1, 0.092, 0.0512, 0.221}, {1, 0.076, 0.0515, 0.217}, {1, 0.072, 0.0508, 0.214}, {1, 0.069, 0.0502, 0.209},
            {1, 0.070, 0.0500, 0.206}, {1, 0.070, 0.0504, 0.204}, {1, 0.069, 0.0508, 0.202}, {1, 0.068, 0.0513, 0.201},
            {1, 0.068, 0.0516, 0.200}, {1, 0.067, 0.0517, 0.200}, {1, 0.067, 0.0517, 0.200}, {1, 0.066, 0.0517, 0.200}};

    private static List<Alert> replay(double[][] trace) {
        DetectorSuite suite = new DetectorSuite(List.of(new GeneralOnsetDetector(GeneralOnsetDetector.Config.DEFAULT)));
        DetectorStates state = suite.initialState();
        List<Alert> alerts = new ArrayList<>();
        for (int i = 0; i < trace.length; i++) {
            Observation o = new Observation(10L * i, 10L * i, trace[i][0], 0.01, 0.0, new double[] {1.0}, Map.of(),
                    Map.of(), trace[i][1], trace[i][2], trace[i][3]);
            DetectorSuite.Step s = suite.observe(state, o);
            state = s.state();
            alerts.addAll(s.alerts());
        }
        return alerts;
    }

    @Test
    void firesOnceOnAGrokkingTraceInsideTheWindowAndNamesItsEvidence() {
        List<Alert> alerts = replay(GROKKING);
        assertEquals(1, alerts.size(), alerts.toString());
        Alert a = alerts.get(0);
        assertEquals(GeneralOnsetDetector.NAME, a.type());
        // The kernel turns at epoch 70 (0.0584 / 0.0400 = 1.46), ten epochs before held-out accuracy reaches 0.1.
        assertEquals(70, a.epoch());
        assertEquals(List.of(GeneralOnsetDetector.KERNEL_EVIDENCE), a.evidence().values().get("fired"));
        assertEquals(0.0400, a.evidence().number("kernelLowestSinceMemorised"), 1e-12);
        assertEquals(0.124, ((Map<?, ?>) a.evidence().values().get("context")).get("labelAlignmentAtMemorisation"));
    }

    @Test
    void theOutputEvidenceFiresAloneWhenTheKernelSignalIsMissing() {
        double[][] outputsOnly = new double[GROKKING.length][];
        for (int i = 0; i < GROKKING.length; i++) {
            outputsOnly[i] = new double[] {GROKKING[i][0], GROKKING[i][1], Double.NaN, Double.NaN};
        }
        List<Alert> alerts = replay(outputsOnly);
        assertEquals(1, alerts.size(), alerts.toString());
        assertEquals(90, alerts.get(0).epoch());
        assertEquals(List.of(GeneralOnsetDetector.OUTPUT_EVIDENCE), alerts.get(0).evidence().values().get("fired"));
    }

    @Test
    void staysQuietOnRandomLabels() {
        assertEquals(List.of(), replay(RANDOM_LABELS));
    }

    @Test
    void staysQuietWithoutASplit() {
        GeneralOnsetDetector d = new GeneralOnsetDetector(GeneralOnsetDetector.Config.DEFAULT);
        Observation o = new Observation(10, 10, 1.0, 0.0, 1.0, new double[] {1}, Map.of(), Map.of());
        Detector.Step<GeneralOnsetDetector.State> t = d.observe(GeneralOnsetDetector.State.INITIAL, o);
        assertEquals(GeneralOnsetDetector.State.INITIAL, t.state());
        assertEquals(List.of(), t.alerts());
    }

    @Test
    void stateSurvivesTheStoresJson() throws Exception {
        GeneralOnsetDetector d = new GeneralOnsetDetector(GeneralOnsetDetector.Config.DEFAULT);
        GeneralOnsetDetector.State s = new GeneralOnsetDetector.State(false, 40L, 0.069, 0.04, null);
        ObjectMapper json = new ObjectMapper();
        String stored = json.writeValueAsString(DetectorStates.empty().with(d.name(), s));
        DetectorStates back = json.readValue(stored, DetectorStates.class);
        assertEquals(s, back.of(d));
        assertEquals(false, back.fired(d.name()));
    }

    @Test
    void configKeysAreValidated() {
        assertThrows(IllegalArgumentException.class, () -> new GeneralOnsetDetector.Config(0.95, 1.25, 0));
        assertThrows(IllegalArgumentException.class, () -> new GeneralOnsetDetector.Config(0.95, 1.0, 0.04));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> DetectorSuite.fromConfig(Map.of("general.confidence-rise", "2")));
        assertTrue(e.getMessage().contains("general.confidence-rise"), e.getMessage());
        assertTrue(DetectorSuite.KEYS.contains("general.train-accuracy"));
    }
}
