package io.grokwatch.run;

import io.grokwatch.records.KernelSpectrum;

import io.grokwatch.entk.Entk;
import io.grokwatch.linalg.Matrix;
import io.grokwatch.linalg.SymmetricEigen;
import io.grokwatch.model.ModelDescription;
import io.grokwatch.model.Network;
import io.grokwatch.model.Parameters;
import io.grokwatch.probe.ModularAddition;
import io.grokwatch.safetensors.TensorFile;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A run whose kernels are above the dense limit (p = 47: 2,209 probes) solved iteratively: the first checkpoint
 * cold, the next one warm from the previous bases after their F32 round trip (what the analyzer's store
 * holds), both checked against a dense decomposition of the same kernel.
 */
class WarmStartIT {
    private static final int P = 47;
    private static final int H = 48;

    @Test
    void theNextCheckpointStartsFromTheStoredBasisAndAgreesWithTheDenseSpectrum() {
        RunDescriptor d = new RunDescriptor("warm", ModelDescription.modularAddition(P, H),
                ProbeSource.generator("modular-addition:p=" + P), RunDescriptor.AnalysisSettings.classMean(200), 1,
                Map.of());
        Parameters first = weights(1, null, 0);
        // A nearby checkpoint: every weight moved by ~1% of its scale, as between two epochs of training.
        Parameters second = weights(2, first, 0.01);
        try (RunAnalyzer a = new RunAnalyzer(d, 2)) {
            RunAnalyzer.Analysis cold = a.analyze(checkpoint(first));
            Map<String, Matrix> stored = EigenBases.decode(EigenBases.encode(cold.bases()));
            RunAnalyzer.Analysis warm = a.analyze(checkpoint(second), stored);

            KernelSpectrum.Solve c = cold.spectrum().solve();
            KernelSpectrum.Solve w = warm.spectrum().solve();
            System.out.printf("WarmStartIT p=%d: cold %s in %.2f s, warm %s in %.2f s%n", P, c, cold.seconds(), w,
                    warm.seconds());
            assertEquals("cold", c.start());
            assertEquals("warm", w.start(), w.toString());
            assertTrue(w.iterations() < c.iterations(), "warm " + w + " cold " + c);
            // The stated tolerance of iterative solves: ||K v - lambda v|| / lambda <= 1e-6.
            assertTrue(w.residual() <= 1e-6 && c.residual() <= 1e-6);
            double drift = warm.spectrum().drift();
            assertTrue(drift > 0 && drift < 0.1, "drift " + drift);

            // Independent check: the dense decomposition of the same whole-model kernel. A residual of 1e-6
            // bounds the eigenvalue error by ~1e-12 / relative gap; 1e-8 relative is asserted.
            Entk entk = new Entk(new Network(((io.grokwatch.run.RunModel.Sequential) d.model()).description(), second), ModularAddition.inputs(P));
            Matrix k = entk.classMean("net.0").addInPlace(1.0, entk.classMean("net.3"));
            double[] dense = SymmetricEigen.top(k, 200, 0).values();
            double[] ours = warm.eigenvalues();
            assertEquals(200, ours.length);
            for (int i = 0; i < 200; i++) {
                assertEquals(dense[i], ours[i], 1e-8 * Math.abs(dense[i]), "eigenvalue " + i);
            }
        }
    }

    @Test
    void aTmsRunWarmStartsItsDualSolveAndMatchesTheDenseDual() {
        // m = 40 hidden, 50 features: the flattened kernel (500 x 50 rows) goes through its 2,050-side dual,
        // above the dense limit, so the analyzer's block Lanczos solves it and keeps the dual eigenvectors.
        int n = 50;
        int m = 40;
        SplittableRandom r = new SplittableRandom(5);
        Matrix x = new Matrix(500, n);
        for (int i = 0; i < x.rows(); i++) {
            double norm = 0;
            for (int j = 0; j < n; j++) {
                double v = r.nextDouble() < 0.9 ? 0.0 : r.nextDouble();
                x.set(i, j, v);
                norm += v * v;
            }
            for (int j = 0; j < n && norm > 0; j++) {
                x.set(i, j, x.get(i, j) / Math.sqrt(norm));
            }
        }
        RunDescriptor d = new RunDescriptor("tms", ModelDescription.tms(n), ProbeSource.inline(x),
                new RunDescriptor.AnalysisSettings(io.grokwatch.entk.KernelKind.FLATTENED, 80, false,
                        java.util.Optional.of(0.8), 0.33, 0), 1, Map.of());
        Parameters first = tmsWeights(r, m, n, null, 0);
        Parameters second = tmsWeights(r, m, n, first, 0.01);
        try (RunAnalyzer a = new RunAnalyzer(d, 2)) {
            RunAnalyzer.Analysis cold = a.analyze(checkpoint(first));
            assertEquals(Set.of(Entk.ALL), cold.bases().keySet());
            Map<String, Matrix> stored = EigenBases.decode(EigenBases.encode(cold.bases()));
            RunAnalyzer.Analysis warm = a.analyze(checkpoint(second), stored);
            KernelSpectrum.Solve c = cold.spectrum().solve();
            KernelSpectrum.Solve w = warm.spectrum().solve();
            System.out.printf("WarmStartIT tms m=%d: cold %s in %.2f s, warm %s in %.2f s%n", m, c, cold.seconds(), w,
                    warm.seconds());
            assertEquals("cold", c.start());
            assertEquals("warm", w.start(), w.toString());
            assertTrue(w.iterations() <= c.iterations(), "warm " + w + " cold " + c);
            assertTrue(w.residual() <= 1e-6 && c.residual() <= 1e-6);
            assertTrue(warm.spectrum().recoveredFeatures() >= 0);

            // Independent check: the dense decomposition of the same dual Gram; 1e-8 relative as above.
            double[] scale = Entk.importanceScale(0.8, n, 0.33);
            Matrix g = new Entk(new Network(((io.grokwatch.run.RunModel.Sequential) d.model()).description(), second), x).dualGram(Entk.ALL, scale);
            double[] dense = SymmetricEigen.top(g, 80, 0).values();
            double[] ours = warm.eigenvalues();
            assertEquals(80, ours.length);
            for (int i = 0; i < 80; i++) {
                assertEquals(dense[i], ours[i], 1e-8 * Math.abs(dense[i]), "eigenvalue " + i);
            }
        }
    }

    private static Parameters tmsWeights(SplittableRandom r, int m, int n, Parameters base, double scale) {
        Matrix w = new Matrix(m, n);
        Matrix b = new Matrix(1, n);
        for (int i = 0; i < w.data().length; i++) {
            w.data()[i] = r.nextGaussian() * Math.sqrt(2.0 / (m + n));
        }
        for (int i = 0; i < n; i++) {
            b.data()[i] = 0.01 * r.nextGaussian();
        }
        if (base != null) {
            w = base.get("W").copy().addInPlace(scale, w);
            b = base.get("b").copy().addInPlace(scale, b);
        }
        return new Parameters().putMatrix("W", w).putVector("b", b.data());
    }

    private static TensorFile checkpoint(Parameters p) {
        return CheckpointRecord.decode(CheckpointRecord.encode(p, CheckpointMetadata.of(1, 1))).weights();
    }

    /** Seeded random weights, optionally {@code base + scale * noise}. */
    private static Parameters weights(long seed, Parameters base, double scale) {
        SplittableRandom r = new SplittableRandom(seed);
        Matrix w1 = new Matrix(H, 2 * P);
        Matrix w2 = new Matrix(P, H);
        for (Matrix m : new Matrix[] {w1, w2}) {
            for (int i = 0; i < m.data().length; i++) {
                m.data()[i] = r.nextGaussian();
            }
        }
        if (base != null) {
            w1 = base.get("net.0.weight").copy().addInPlace(scale, w1);
            w2 = base.get("net.3.weight").copy().addInPlace(scale, w2);
        }
        return new Parameters().putMatrix("net.0.weight", w1).putMatrix("net.3.weight", w2);
    }
}
