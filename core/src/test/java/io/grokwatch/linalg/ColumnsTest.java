package io.grokwatch.linalg;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The sign and scale conventions, against a column-by-column reading of their definitions. */
class ColumnsTest {

    /** 7 x 5: a random column, a zero column, a column whose largest entries tie in magnitude, two negative ones. */
    private static Matrix sample() {
        Random r = new Random(4);
        Matrix m = new Matrix(7, 5);
        for (int i = 0; i < 7; i++) {
            m.set(i, 0, r.nextGaussian());
            m.set(i, 3, -Math.abs(r.nextGaussian()) - 0.1);
            m.set(i, 4, r.nextGaussian());
        }
        m.set(2, 2, -3.0);
        m.set(5, 2, 3.0);
        m.set(1, 2, 1.0);
        m.set(6, 4, -50.0);
        return m;
    }

    @Test
    void normaliseWithSignGivesUnitColumnsWhoseLargestEntryIsPositive() {
        Matrix m = sample();
        Matrix before = m.copy();
        Columns.normaliseWithSign(m);
        for (int j = 0; j < m.cols(); j++) {
            double norm = 0;
            int first = -1;
            for (int i = 0; i < m.rows(); i++) {
                norm += before.get(i, j) * before.get(i, j);
                if (first < 0 || Math.abs(before.get(i, j)) > Math.abs(before.get(first, j))) {
                    first = i;
                }
            }
            double sign = before.get(first, j) < 0 ? -1 : 1;
            for (int i = 0; i < m.rows(); i++) {
                double want = norm == 0 ? 0 : sign * before.get(i, j) / Math.sqrt(norm);
                assertEquals(want, m.get(i, j), 1e-15, "entry " + i + "," + j);
            }
        }
        // The tie in column 2 goes to the first row in order: -3 at row 2, so the column flips.
        assertEquals(1.0, m.get(2, 2) / Math.abs(m.get(2, 2)));
    }

    @Test
    void fixSignsFlipsOnlyColumnsWhoseLargestEntryIsNegative() {
        Matrix m = sample();
        Matrix before = m.copy();
        Columns.fixSigns(m);
        for (int j = 0; j < m.cols(); j++) {
            int first = 0;
            for (int i = 1; i < m.rows(); i++) {
                if (Math.abs(before.get(i, j)) > Math.abs(before.get(first, j))) {
                    first = i;
                }
            }
            double flip = before.get(first, j) < 0 ? -1 : 1;
            for (int i = 0; i < m.rows(); i++) {
                assertEquals(flip * before.get(i, j), m.get(i, j), 0.0, "entry " + i + "," + j);
            }
        }
        // Columns 2 (a tie, first at -3), 3 (all negative) and 4 (-50) flip; the zero column stays zero.
        assertEquals(3.0, m.get(2, 2));
        assertEquals(50.0, m.get(6, 4));
        assertEquals(0.0, m.get(3, 1));
    }
}
