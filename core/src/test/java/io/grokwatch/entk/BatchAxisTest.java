package io.grokwatch.entk;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class BatchAxisTest {
    @Test
    void probeMajorBatchOwnsContiguousBlocks() {
        // [B, 3, d]: probe b owns rows 3b .. 3b+2.
        assertArrayEquals(new int[] {0, 1, 2, 3, 4, 5}, new BatchAxis(0, true).rowOf(new int[] {1, 3, 8}, 2));
    }

    @Test
    void sequenceFirstLayoutInterleavesProbes() {
        // [3, B, d], as nn.MultiheadAttention works: row (t, b) is t*B + b.
        assertArrayEquals(new int[] {0, 2, 4, 1, 3, 5}, new BatchAxis(1, true).rowOf(new int[] {3, 1, 8}, 2));
    }

    @Test
    void mergedAxisCanHoldTheBatchOutsideOrInside() {
        // [3, B*4, d] with the batch outside the heads (major) or inside (minor), B = 2.
        int[] single = {3, 4, 8};
        int[] major = new BatchAxis(1, true).rowOf(single, 2);
        int[] minor = new BatchAxis(1, false).rowOf(single, 2);
        // Probe 1's row (t = 0, h = 1): major at 0*8 + 4 + 1, minor at 0*8 + 1*2 + 1.
        assertEquals(5, major[12 + 1]);
        assertEquals(3, minor[12 + 1]);
        // Both are permutations of the 24 batched rows.
        assertEquals(276, java.util.Arrays.stream(major).sum());
        assertEquals(276, java.util.Arrays.stream(minor).sum());
    }

    @Test
    void candidatesAreTheAxesThatGrewByTheBatch() {
        assertEquals(List.of(new BatchAxis(1, true), new BatchAxis(1, false)),
                BatchAxis.candidates(new int[] {3, 4, 8}, new int[] {3, 8, 8}, 2));
        assertEquals(List.of(new BatchAxis(0, true)), BatchAxis.candidates(new int[] {1, 3, 8}, new int[] {2, 3, 8}, 2));
        // The last axis is the row width, never the batch; other dimensions must match.
        assertEquals(List.of(), BatchAxis.candidates(new int[] {3, 4}, new int[] {3, 8}, 2));
        assertEquals(List.of(), BatchAxis.candidates(new int[] {1, 3, 8}, new int[] {2, 4, 8}, 2));
        assertThrows(IllegalArgumentException.class, () -> new BatchAxis(2, true).rowOf(new int[] {3, 4, 8}, 2));
    }
}
