package io.grokwatch.detect;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TrainingHealthDetectorsTest {
    private static Observation at(long epoch, double trainAcc, double trainLoss, double testAcc) {
        return new Observation(epoch, epoch, trainAcc, trainLoss, testAcc, new double[] {1}, Map.of(), Map.of());
    }

    /** The epochs at which the detector fires over a run of (train loss, test accuracy) checkpoints, 10 epochs apart. */
    private static <S extends Record> List<Long> fired(Detector<S> d, double[] losses, double[] testAcc) {
        S state = d.initialState();
        List<Long> out = new ArrayList<>();
        for (int i = 0; i < losses.length; i++) {
            Detector.Step<S> st = d.observe(state, at(10L * i, 1.0, losses[i], testAcc[i]));
            state = st.state();
            st.alerts().forEach(a -> out.add(a.epoch()));
        }
        return out;
    }

    private static double[] nan(int n) {
        double[] d = new double[n];
        java.util.Arrays.fill(d, Double.NaN);
        return d;
    }

    @Test
    void divergingFiresWhenTheLossClimbsBackAndStays() {
        DivergingDetector d = new DivergingDetector(DivergingDetector.Config.DEFAULT);
        double[] loss = {1.0, 0.1, 0.01, 0.001, 0.8, 0.9, 2.0};
        // 0.8 is above max(10 x 0.001, 0.5 x 1.0): the second such checkpoint fires, once for the episode.
        assertEquals(List.of(50L), fired(d, loss, nan(loss.length)), "second checkpoint above the threshold");
    }

    @Test
    void divergingStaysQuietOnTheLossRiseOfAHealthyGrokkingRunAndOnOneSpike() {
        DivergingDetector d = new DivergingDetector(DivergingDetector.Config.DEFAULT);
        // Memorised to 1e-4, then weight decay lifts the training loss 30x while the circuit forms: far below
        // half the initial loss, so not a divergence.
        double[] grokking = {1.0, 0.01, 1e-4, 1e-4, 3e-3, 3e-3, 2e-3, 1e-3};
        assertEquals(List.of(), fired(d, grokking, nan(grokking.length)));
        double[] spike = {1.0, 0.01, 1e-4, 0.9, 1e-4, 1e-4};
        assertEquals(List.of(), fired(d, spike, nan(spike.length)), "one noisy checkpoint");
    }

    @Test
    void divergingFiresAtOnceOnANonFiniteLossAndReArmsAfterRecovery() {
        DivergingDetector d = new DivergingDetector(DivergingDetector.Config.DEFAULT);
        double[] loss = {1.0, 0.1, Double.NaN, Double.NaN, 0.05, 0.05, Double.POSITIVE_INFINITY};
        assertEquals(List.of(20L, 60L), fired(d, loss, nan(loss.length)));
        // A run that reports no loss at all raises nothing.
        assertEquals(List.of(), fired(d, nan(5), nan(5)));
    }

    @Test
    void collapseFiresWhenTestAccuracyFallsFarBelowItsBestAfterGeneralising() {
        CollapseDetector d = new CollapseDetector(CollapseDetector.Config.DEFAULT);
        double[] test = {0.01, 0.5, 0.95, 0.97, 0.6, 0.55, 0.5, 0.96, 0.5, 0.5};
        double[] loss = new double[test.length];
        java.util.Arrays.fill(loss, 1e-3);
        // Fires on the second checkpoint below 0.77, once; back at 0.96 it re-arms and fires again.
        assertEquals(List.of(50L, 90L), fired(d, loss, test));
    }

    @Test
    void collapseStaysQuietOnWobblesAndOnRunsThatNeverLearned() {
        CollapseDetector d = new CollapseDetector(CollapseDetector.Config.DEFAULT);
        double[] wobble = {0.5, 0.95, 0.9, 0.85, 0.93, 0.88};
        double[] loss = new double[wobble.length];
        assertEquals(List.of(), fired(d, loss, wobble), "drops of at most 0.1");
        double[] neverLearned = {0.1, 0.6, 0.2, 0.1, 0.1, 0.1};
        assertEquals(List.of(), fired(d, loss, neverLearned), "never reached 0.9: not armed");
    }

    @Test
    void collapseReadsTrainingAccuracyWhenNoTestAccuracyIsReported() {
        CollapseDetector d = new CollapseDetector(CollapseDetector.Config.DEFAULT);
        CollapseDetector.State s = d.initialState();
        double[] train = {0.3, 0.99, 1.0, 0.5, 0.4};
        List<Long> out = new ArrayList<>();
        for (int i = 0; i < train.length; i++) {
            Detector.Step<CollapseDetector.State> st = d.observe(s, at(10L * i, train[i], 0.1, Double.NaN));
            s = st.state();
            st.alerts().forEach(a -> {
                out.add(a.epoch());
                assertEquals("trainAccuracy", a.evidence().values().get("measure"));
            });
        }
        assertEquals(List.of(40L), out);
    }

    @Test
    void bothAreInTheDefaultSuiteAndTakeTheirKeys() {
        DetectorSuite suite = DetectorSuite.fromConfig(Map.of("diverging.ratio", "5", "collapse.drop", "0.3"));
        DetectorStates state = suite.initialState();
        assertTrue(state.names().contains(DivergingDetector.NAME) && state.names().contains(CollapseDetector.NAME),
                state.toString());
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> DetectorSuite.fromConfig(Map.of("diverging.ratio", "1")));
        assertTrue(e.getMessage().contains("diverging.ratio"), e.getMessage());
    }
}
