package io.grokwatch.model;

import io.grokwatch.linalg.Blas;
import io.grokwatch.linalg.Matrix;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The forward pass's sparse-input route against the dense GEMM it replaces. */
class NetworkTest {
    private static Matrix random(int rows, int cols, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        Matrix m = new Matrix(rows, cols);
        for (int i = 0; i < m.data().length; i++) {
            m.data()[i] = r.nextDouble() - 0.5;
        }
        return m;
    }

    /** Two one-hot tokens per row, as modular addition's probes: 2 of 2p entries set. */
    private static Matrix tokens(int p) {
        Matrix x = new Matrix(p * p, 2 * p);
        for (int a = 0; a < p; a++) {
            for (int b = 0; b < p; b++) {
                x.set(a * p + b, a, 1.0);
                x.set(a * p + b, p + b, 1.0);
            }
        }
        return x;
    }

    @Test
    void sparseInputsTakeTheRowRouteAndDenseOnesDoNot() {
        assertTrue(Network.isSparse(tokens(23)));
        assertFalse(Network.isSparse(random(50, 40, 1)));
        assertFalse(Network.isSparse(new Matrix(0, 3)));
    }

    /** Every op kind that follows a linear map, both weight layouts and a bias; entries agree to 1e-13. */
    @Test
    void theForwardPassOnOneHotInputsMatchesTheDenseProducts() {
        int p = 11;
        int width = 24;
        Matrix x = tokens(p);
        Matrix w1 = random(width, 2 * p, 2);
        Matrix b1 = random(1, width, 3);
        Matrix w2 = random(width, 5, 4);
        ModelDescription d = new ModelDescription(2 * p, List.of(
                new Op.Linear("w1", Optional.of("b1"), false),
                new Op.Relu(),
                new Op.Linear("w2", Optional.empty(), true)));
        Parameters params = new Parameters().putMatrix("w1", w1).putVector("b1", b1.data()).putMatrix("w2", w2);
        Matrix out = new Network(d, params).output(x);

        Matrix h = Blas.multiply(x, false, w1, true);
        for (int i = 0; i < h.rows(); i++) {
            for (int j = 0; j < width; j++) {
                h.set(i, j, Math.max(0.0, h.get(i, j) + b1.get(0, j)));
            }
        }
        Matrix expected = Blas.multiply(h, false, w2, false);
        for (int i = 0; i < expected.data().length; i++) {
            assertEquals(expected.data()[i], out.data()[i], 1e-13, "entry " + i);
        }
        // The transposed layout on a sparse input too: x W for W of shape (2p x width).
        Matrix wt = w1.transpose();
        Matrix direct = Network.sparseTimes(x, wt);
        Matrix dense = Blas.multiply(x, false, wt, false);
        for (int i = 0; i < dense.data().length; i++) {
            assertEquals(dense.data()[i], direct.data()[i], 1e-13, "entry " + i);
        }
    }
}
