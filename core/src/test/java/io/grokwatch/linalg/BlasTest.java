package io.grokwatch.linalg;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The symmetric rank-k Grams against plain triple loops (1e-12 of the largest entry), both side sizes. */
class BlasTest {

    @Test
    void gramsMatchTripleLoops() {
        Random r = new Random(11);
        for (int[] shape : new int[][] {{5, 3}, {90, 70}, {40, 130}}) {
            Matrix a = new Matrix(shape[0], shape[1]);
            for (int i = 0; i < a.data().length; i++) {
                a.data()[i] = r.nextGaussian();
            }
            Matrix rows = Blas.gram(a);
            Matrix cols = Blas.gramOfColumns(a);
            assertEquals(a.rows(), rows.rows());
            assertEquals(a.cols(), cols.rows());
            for (int i = 0; i < a.cols(); i++) {
                for (int j = 0; j < a.cols(); j++) {
                    double s = 0;
                    for (int x = 0; x < a.rows(); x++) {
                        s += a.get(x, i) * a.get(x, j);
                    }
                    assertTrue(Math.abs(cols.get(i, j) - s) <= 1e-12 * a.rows(), "A^T A at " + i + "," + j);
                }
            }
            for (int i = 0; i < a.rows(); i++) {
                for (int j = 0; j < a.rows(); j++) {
                    double s = 0;
                    for (int x = 0; x < a.cols(); x++) {
                        s += a.get(i, x) * a.get(j, x);
                    }
                    assertTrue(Math.abs(rows.get(i, j) - s) <= 1e-12 * a.cols(), "A A^T at " + i + "," + j);
                }
            }
        }
    }
}
