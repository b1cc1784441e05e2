package io.grokwatch.probe;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TrainSplitTest {
    @Test
    void maskAndClassesFollowTheRows() {
        TrainSplit s = new TrainSplit(new int[] {0, 2, 3}, new int[] {1, 0, 4}, 5);
        assertArrayEquals(new boolean[] {true, false, true, true, false}, s.mask());
        assertEquals(5, s.classes());
        assertArrayEquals(new int[] {0, 1}, s.evenlySpaced(2));
    }

    @Test
    void badSplitsFailNamingTheKey() {
        IllegalArgumentException unsorted = assertThrows(IllegalArgumentException.class,
                () -> new TrainSplit(new int[] {2, 1}, new int[] {0, 0}, 5));
        assertTrue(unsorted.getMessage().contains("\"probe.train\" rows must be ascending"), unsorted.getMessage());
        IllegalArgumentException count = assertThrows(IllegalArgumentException.class,
                () -> new TrainSplit(new int[] {1, 2}, new int[] {0}, 5));
        assertTrue(count.getMessage().contains("\"probe.labels\""), count.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new TrainSplit(new int[] {0, 1}, new int[] {0, 1}, 2));
        assertThrows(IllegalArgumentException.class, () -> new TrainSplit(new int[] {7}, new int[] {0}, 5));
    }
}
