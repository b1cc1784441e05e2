package io.grokwatch.detect;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.grokwatch.features.Family;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The detectors on synthetic runs shaped like docs/science.md's: a grokking run, a memorisation control, replay. */
class DetectorsTest {

    /** A checkpoint with the given second-cliff sum/diff overlap, end-of-second-cliff gap and accuracies. */
    static Observation obs(long epoch, double trainAcc, double testAcc, double sumDiff, double gap) {
        double[] ev = new double[120];
        for (int i = 0; i < ev.length; i++) {
            ev[i] = 1.0 / (1 + i);
        }
        ev[113] = ev[112] / gap;
        for (int i = 114; i < ev.length; i++) {
            ev[i] = ev[113] * (1 - 1e-3 * (i - 113));
        }
        Map<String, Map<Family, Double>> ov = Map.of("secondCliff", Map.of(Family.N, 0.01, Family.M, 0.01,
                Family.SUM, sumDiff + 0.01, Family.DIFF, sumDiff - 0.01));
        return new Observation(epoch, epoch, trainAcc, 0.1, testAcc, ev, ov, Map.of("endOfSecondCliff", gap));
    }

    /** Epochs 0..200 every 10: overlap rises 0.08 -> 0.9 between epochs 30 and 110, test accuracy from 90. */
    static List<Observation> grokkingRun() {
        List<Observation> run = new ArrayList<>();
        for (long e = 0; e <= 200; e += 10) {
            double m = e < 30 ? 0.08 : Math.min(0.9, 0.08 + (e - 30) * 0.0103);
            double test = e < 90 ? 0.0 : Math.min(1.0, (e - 80) * 0.05);
            double gap = e < 90 ? 1.0 : 1.0 + (e - 80) * 0.005;
            run.add(obs(e, Math.min(1.0, e / 40.0), test, m, gap));
        }
        return run;
    }

    static List<Alert> runAll(DetectorSuite suite, List<Observation> run) {
        DetectorStates state = suite.initialState();
        List<Alert> alerts = new ArrayList<>();
        for (Observation o : run) {
            DetectorSuite.Step s = suite.observe(state, o);
            state = s.state();
            alerts.addAll(s.alerts());
        }
        return alerts;
    }

    @Test
    void grokkingRunRaisesOnsetBeforeGeneralisationOnceEach() {
        List<Alert> alerts = runAll(DetectorSuite.defaults(), grokkingRun());
        List<String> types = alerts.stream().map(Alert::type).toList();
        assertEquals(List.of("grokking-onset", "generalization", "spectral-gap"), types);
        Alert onset = alerts.get(0);
        // Overlap reaches 0.5 at epoch ~71 (0.08 + 41 * 0.0103): the first checkpoint at or after is 80.
        assertEquals(80, onset.epoch());
        assertTrue(onset.evidence().number("secondCliffSumDiff") >= 0.5);
        assertTrue(onset.evidence().number("risePerEpoch") > 0);
        assertEquals(90, alerts.get(1).epoch(), "test accuracy (e - 80) * 0.05 reaches 0.5 at epoch 90");
        assertEquals(112, (int) alerts.get(2).evidence().number("position"), "the gap that opened is at 4(p-1)");
    }

    @Test
    void memorisationControlRaisesNoOnsetAndNoGeneralisation() {
        List<Observation> run = new ArrayList<>();
        for (long e = 0; e <= 500; e += 10) {
            run.add(obs(e, Math.min(1.0, e / 40.0), 0.007, Math.min(0.21, 0.05 + e * 0.001), 1.0 + 1e-3 * Math.sin(e)));
        }
        List<Alert> alerts = runAll(DetectorSuite.defaults(), run);
        assertTrue(alerts.isEmpty(), alerts.toString());
    }

    @Test
    void onsetNeedsMemorisationAndARise() {
        GrokkingOnsetDetector d = new GrokkingOnsetDetector(GrokkingOnsetDetector.Config.DEFAULT);
        // Aligned from the start (no rise): never onset.
        GrokkingOnsetDetector.State s = d.initialState();
        for (long e = 0; e < 100; e += 10) {
            Detector.Step<GrokkingOnsetDetector.State> st = d.observe(s, obs(e, 1.0, 0.0, 0.6, 1.0));
            assertTrue(st.alerts().isEmpty());
            s = st.state();
        }
        // Rise while the training set is not yet memorised: waits for train accuracy.
        s = d.initialState();
        s = d.observe(s, obs(0, 0.1, 0, 0.1, 1.0)).state();
        assertTrue(d.observe(s, obs(10, 0.5, 0, 0.6, 1.0)).alerts().isEmpty());
        assertEquals(1, d.observe(s, obs(10, 0.97, 0, 0.6, 1.0)).alerts().size());
    }

    @Test
    void stateSurvivesSerialisationSoAReplayFromAnyCheckpointGivesTheSameAlerts() throws Exception {
        DetectorSuite suite = DetectorSuite.defaults();
        List<Observation> run = grokkingRun();
        List<Alert> whole = runAll(suite, run);
        ObjectMapper json = new ObjectMapper();
        for (int cut = 1; cut < run.size(); cut++) {
            DetectorStates state = suite.initialState();
            List<Alert> alerts = new ArrayList<>();
            for (int i = 0; i < run.size(); i++) {
                if (i == cut) {
                    // As the analyzer does: the state goes to bytes in a store and comes back after a restart.
                    state = json.readValue(json.writeValueAsBytes(state), DetectorStates.class);
                }
                DetectorSuite.Step s = suite.observe(state, run.get(i));
                state = s.state();
                alerts.addAll(s.alerts());
            }
            assertEquals(whole.stream().map(a -> a.type() + "@" + a.epoch()).toList(),
                    alerts.stream().map(a -> a.type() + "@" + a.epoch()).toList(), "cut at " + cut);
        }
    }

    @Test
    void runsWithoutFamiliesOrTestMetricsOnlyGetTheFamilyFreeSignal() {
        List<Observation> run = new ArrayList<>();
        for (Observation o : grokkingRun()) {
            run.add(new Observation(o.epoch(), o.step(), o.trainAccuracy(), o.trainLoss(), Double.NaN, o.eigenvalues(),
                    Map.of(), Map.of()));
        }
        assertEquals(List.of("spectral-gap"), runAll(DetectorSuite.defaults(), run).stream().map(Alert::type).toList());
    }

    @Test
    void thresholdsAreConfigKeys() {
        // A stricter onset threshold fires later on the same run.
        List<Alert> strict = runAll(DetectorSuite.fromConfig(Map.of("onset.overlap-threshold", "0.7")), grokkingRun());
        assertEquals(100, strict.stream().filter(a -> a.type().equals("grokking-onset")).findFirst().orElseThrow()
                .epoch(), strict.toString());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> DetectorSuite.fromConfig(Map.of("onset.treshold",
                "0.5"))).getMessage().contains("unknown detector key 'onset.treshold', allowed: onset.overlap-threshold"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> DetectorSuite.fromConfig(Map.of("gap.ratio",
                "big"))).getMessage().contains("'gap.ratio' must be a number"));
    }

    @Test
    void thresholdsAreValidatedWithTheirKeys() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new GrokkingOnsetDetector.Config(1.5, 0.1, 0.9))
                .getMessage().contains("onset.overlap-threshold"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new SpectralGapDetector.Config(1.01, 1.02, 2, 10))
                .getMessage().contains("gap.ratio"));
    }
}
