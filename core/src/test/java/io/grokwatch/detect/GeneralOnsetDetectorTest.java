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

    // The example transformer trained on 15% of the pairs (p = 43, seed 1): memorises, never generalises (held-out
    // accuracy 0.01); every 100 epochs. Its output confidence jumps right after memorisation (epoch 200) with no dip
    // before it; the kernel confidence stays within 1.03 of its low.
    private static final double[][] TRANSFORMER_CONTROL = {{0.0253, 0.95878, 0.27489, 0.10596},
            {1, 0.75880, 0.15354, 0.20628}, {1, 0.96651, 0.15717, 0.20983}, {1, 0.70858, 0.15361, 0.20625},
            {1, 0.40803, 0.14633, 0.21736}, {1, 0.36633, 0.14951, 0.21914}, {1, 0.35964, 0.15583, 0.22244},
            {1, 0.35415, 0.15113, 0.22613}, {1, 0.35186, 0.15653, 0.23009}, {1, 0.35044, 0.15518, 0.23279},
            {1, 0.34512, 0.14822, 0.23520}, {1, 0.33798, 0.15463, 0.23603}, {1, 0.33622, 0.15081, 0.23587},
            {1, 0.33902, 0.14642, 0.23361}, {1, 0.34214, 0.14711, 0.22972}, {1, 0.34496, 0.14123, 0.22566}};

    // The example transformer on half the pairs (p = 43, seed 0), every 100 epochs: held-out accuracy 0.16 at
    // memorisation (epoch 100), 0.1 passed at 100, 0.9 at 1300, the generalization alert at 700.
    private static final double[][] TRANSFORMER_GROKKING = {{0.0227, 0.97513, 0.39746, 0.03777},
            {1, 0.45963, 0.13051, 0.09641}, {1, 0.56861, 0.15066, 0.10882}, {1, 0.42728, 0.16296, 0.10867},
            {1, 0.33381, 0.15933, 0.12610}, {1, 0.35377, 0.17262, 0.14505}, {1, 0.38717, 0.19076, 0.15730},
            {1, 0.42864, 0.22066, 0.16601}};

    private static List<Alert> replay(double[][] trace) {
        return replay(trace, 10);
    }

    private static List<Alert> replay(double[][] trace, long every) {
        DetectorSuite suite = new DetectorSuite(List.of(new GeneralOnsetDetector(GeneralOnsetDetector.Config.DEFAULT)));
        DetectorStates state = suite.initialState();
        List<Alert> alerts = new ArrayList<>();
        for (int i = 0; i < trace.length; i++) {
            Observation o = new Observation(every * i, every * i, trace[i][0], 0.01, 0.0, new double[] {1.0}, Map.of(),
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
    void onTheTransformerTheKernelFiresOnceItClimbsPastItsLowAndTheEarlyJumpIsNoRecovery() {
        List<Alert> alerts = replay(TRANSFORMER_GROKKING, 100);
        assertEquals(1, alerts.size(), alerts.toString());
        // Epoch 200: the output confidence jumps from its value at memorisation without a dip first, no recovery.
        // Epoch 500: the kernel confidence is 0.17262 / 0.13051 = 1.32 times its low.
        assertEquals(500, alerts.get(0).epoch());
        assertEquals(List.of(GeneralOnsetDetector.KERNEL_EVIDENCE), alerts.get(0).evidence().values().get("fired"));
    }

    @Test
    void staysQuietOnATransformerThatOnlyMemorises() {
        assertEquals(List.of(), replay(TRANSFORMER_CONTROL, 100));
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
        GeneralOnsetDetector.State s = new GeneralOnsetDetector.State(false, 40L, 0.136, 0.069, 0.04, null);
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
