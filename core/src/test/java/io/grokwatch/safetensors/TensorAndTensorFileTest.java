package io.grokwatch.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class TensorAndTensorFileTest {
    @Test
    void tensorChecksShapeAgainstValues() {
        assertThrows(IllegalArgumentException.class, () -> Tensor.f64("w", new long[] {2, 3}, new double[5]));
        assertThrows(IllegalArgumentException.class, () -> Tensor.f64("w", new long[] {-2, -3}, new double[6]));
        assertThrows(IllegalArgumentException.class,
                () -> Tensor.f64("w", new long[] {1L << 32, 1L << 32, 4}, new double[0]), "no overflow to 0");
        assertEquals(0, Tensor.f64("w", new long[] {0, 1L << 62}, new double[0]).size());
        assertEquals(1, Tensor.f64("s", new long[] {}, new double[] {3}).size(), "scalar");
        assertThrows(NullPointerException.class, () -> Tensor.f64(null, new long[] {1}, new double[1]));
    }

    @Test
    void shapeIsCopiedValuesAreShared() {
        long[] shape = {2, 2};
        double[] values = {1, 2, 3, 4};
        Tensor t = Tensor.f64("w", shape, values);
        shape[0] = 4;
        t.shape()[1] = 9;
        assertArrayEquals(new long[] {2, 2}, t.shape());
        assertSame(values, t.values());
    }

    @Test
    void matrixAccessors() {
        Tensor t = Tensor.f64("w", new long[] {2, 3}, new double[] {1, 2, 3, 4, 5, 6});
        assertEquals(2, t.rows());
        assertEquals(3, t.cols());
        assertEquals(2, t.rank());
        assertEquals(6.0, t.get(1, 2));
        assertEquals(48, t.byteSize());
        assertEquals(24, t.withDType(DType.F32).byteSize());
        assertThrows(IndexOutOfBoundsException.class, () -> t.get(0, 3));
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> Tensor.f64("b", new long[] {3}, new double[3]).rows());
        assertTrue(e.getMessage().contains("'b'") && e.getMessage().contains("[3]"), e.getMessage());
    }

    @Test
    void equalityIsByContentAndToStringOmitsValues() {
        Tensor a = Tensor.f64("w", new long[] {2}, new double[] {1, Double.NaN});
        assertEquals(a, Tensor.f64("w", new long[] {2}, new double[] {1, Double.NaN}));
        assertEquals(a.hashCode(), Tensor.f64("w", new long[] {2}, new double[] {1, Double.NaN}).hashCode());
        assertNotEquals(a, a.withDType(DType.F32));
        assertNotEquals(a, Tensor.f64("w", new long[] {1, 2}, new double[] {1, Double.NaN}));
        assertEquals("Tensor[name=w, dtype=F64, shape=[2]]", a.toString());
    }

    @Test
    void tensorFileKeepsOrderAndLooksUpByName() {
        Tensor b = Tensor.f64("b", new long[] {1}, new double[] {1});
        Tensor a = Tensor.f64("a", new long[] {1}, new double[] {2});
        TensorFile file = new TensorFile(List.of(b, a), Map.of("k", "v"));
        assertEquals(List.of("b", "a"), List.copyOf(file.names()));
        assertEquals(List.of(b, a), file.tensors());
        assertSame(a, file.get("a"));
        assertEquals(Optional.of(b), file.find("b"));
        assertEquals(Optional.empty(), file.find("c"));
        NoSuchElementException e = assertThrows(NoSuchElementException.class, () -> file.get("c"));
        assertTrue(e.getMessage().contains("'c'"), e.getMessage());
        assertEquals(2, file.size());
        assertThrows(UnsupportedOperationException.class, () -> file.metadata().put("x", "y"));
        assertThrows(UnsupportedOperationException.class, () -> file.names().remove("a"));
    }

    @Test
    void tensorFileRejectsDuplicateAndReservedNames() {
        Tensor w = Tensor.f64("w", new long[] {1}, new double[] {1});
        assertThrows(IllegalArgumentException.class, () -> TensorFile.of(w, w));
        assertThrows(IllegalArgumentException.class,
                () -> TensorFile.of(Tensor.f64(TensorFile.METADATA_KEY, new long[] {1}, new double[] {1})));
    }

    @Test
    void dtypeNamesAndSizes() {
        assertEquals(Optional.of(DType.BF16), DType.fromName("BF16"));
        assertEquals(Optional.empty(), DType.fromName("bf16"));
        assertEquals(Optional.empty(), DType.fromName("F7"));
        assertEquals(8, DType.F64.byteSize());
        assertEquals(2, DType.BF16.byteSize());
        assertEquals(1, DType.BOOL.byteSize());
        assertTrue(DType.F32.isWritable() && !DType.F16.isWritable());
    }
}
