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

    @Test
    void leadingCrossesMatchTripleLoopsOnEitherSideOfTheSplit() {
        // 3,000 x 40 against 3,000 x 55, first 37 columns: 4.1 million multiply-adds, split over two cores when a
        // second one exists; the 20-row case is never split.
        Random r = new Random(12);
        for (int rows : new int[] {20, 3000}) {
            Matrix u = new Matrix(rows, 40);
            Matrix v = new Matrix(rows, 55);
            for (int i = 0; i < u.data().length; i++) {
                u.data()[i] = r.nextGaussian();
            }
            for (int i = 0; i < v.data().length; i++) {
                v.data()[i] = r.nextGaussian();
            }
            int k = 37;
            Matrix c = Blas.leadingCross(u, v, k);
            assertEquals(k, c.rows());
            assertEquals(k, c.cols());
            for (int i = 0; i < k; i++) {
                for (int j = 0; j < k; j++) {
                    double s = 0;
                    for (int x = 0; x < rows; x++) {
                        s += u.get(x, i) * v.get(x, j);
                    }
                    assertTrue(Math.abs(c.get(i, j) - s) <= 1e-12 * rows, "U^T V at " + i + "," + j);
                }
            }
        }
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> Blas.leadingCross(new Matrix(3, 2), new Matrix(3, 4), 3));
    }
}
