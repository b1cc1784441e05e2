package io.grokwatch.probe;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class ModularOperationTest {
    @Test
    void labelsFollowTheFormulasModP() {
        int p = 7;
        int[] sub = ModularOperation.SUBTRACT.labels(p);
        int[] quad = ModularOperation.QUADRATIC.labels(p);
        assertEquals(Math.floorMod(2 - 5, 7), sub[2 * p + 5]);
        assertEquals((3 * 3 + 3 * 6 + 6 * 6) % 7, quad[3 * p + 6]);
        assertEquals((4 * 5) % 7, ModularOperation.MULTIPLY.labels(p)[4 * p + 5]);
        assertArrayEquals(ModularAddition.labels(p), ModularOperation.ADD.labels(p));
    }

    @Test
    void randomLabelsAreSeededAndInRange() {
        int[] a = ModularOperation.randomLabels(11, 3);
        assertArrayEquals(a, ModularOperation.randomLabels(11, 3));
        for (int y : a) {
            assertEquals(true, y >= 0 && y < 11, "label " + y);
        }
    }
}
