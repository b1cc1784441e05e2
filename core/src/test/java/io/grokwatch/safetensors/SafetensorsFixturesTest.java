package io.grokwatch.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Reads files written by make_fixtures.py (an independent writer using numpy/struct/json) and compares with
 * numbers stated here. Tolerances: F64 and F32 exact (the F32 expectation is the float rounding of the
 * decimal); F16 within half a half-precision ulp (relative 2^-11, absolute 2^-25 for subnormals); BF16
 * within half a bfloat16 ulp (relative 2^-8, absolute 2^-133 for subnormals).
 */
class SafetensorsFixturesTest {
    @Test
    void f64FileWithTwoTensorsAndMetadata() throws IOException {
        TensorFile file = Safetensors.read(Fixtures.path("f64_two_tensors.safetensors"));

        assertEquals(List.of("net.0.weight", "net.3.weight"), List.copyOf(file.names()), "header order");
        assertEquals(Map.of("format", "pt", "step", "1200"), file.metadata());

        Tensor w0 = file.get("net.0.weight");
        assertEquals(DType.F64, w0.dtype());
        assertEquals(3, w0.rows());
        assertEquals(4, w0.cols());
        assertArrayEquals(new double[] {
                0.5, -1.25, 3.0, 0.1,
                -0.2, 1e-300, -5e-324, 1.7976931348623157e308,
                123456.789, -0.0, 2.5e-8, 7.0}, w0.values()); // exact, -0.0 included
        assertEquals(1e-300, w0.get(1, 1));

        Tensor w3 = file.get("net.3.weight");
        assertArrayEquals(new long[] {2, 3}, w3.shape());
        assertArrayEquals(new double[] {1.0, -1.0, 0.25, 0.333, -2.0e10, 6.02214076e23}, w3.values());

        assertEquals(file, Safetensors.read(Fixtures.bytes("f64_two_tensors.safetensors")), "byte[] and Path agree");
    }

    @Test
    void f32FileUnpaddedWithMetadataLast() {
        TensorFile file = Safetensors.read(Fixtures.bytes("f32_unpadded.safetensors"));
        assertEquals(List.of("w", "b"), List.copyOf(file.names()));
        assertEquals(Map.of("note", "unpadded, metadata last"), file.metadata());

        Tensor w = file.get("w");
        assertEquals(DType.F32, w.dtype());
        assertArrayEquals(new long[] {2, 3}, w.shape());
        assertArrayEquals(new double[] {
                (float) 0.1, -2.5, (float) 1e-40, (float) 3.4e38, -0.0, 16777216.0}, w.values());
        assertArrayEquals(new double[] {1.5, Double.NEGATIVE_INFINITY, Double.NaN}, file.get("b").values());
    }

    @Test
    void f16WithinHalfPrecision() {
        double[] expected = {1.0, -2.5, 0.1, 65504.0, 6.103515625e-05, 5.960464477539063e-08, -3.0e-06,
                Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, Double.NaN, -0.0, 1000.3};
        Tensor h = Safetensors.read(Fixtures.bytes("f16.safetensors")).get("h");
        assertEquals(DType.F16, h.dtype());
        double[] actual = h.values();
        for (int i = 0; i < expected.length; i++) {
            assertWithin(expected[i], actual[i], Math.scalb(1.0, -11), Math.scalb(1.0, -25), "h[" + i + "]");
        }
        assertEquals(0.0999755859375, actual[2], 0.0, "0.1 rounds to this half exactly");
        assertEquals(5.960464477539063e-08, actual[5], 0.0, "smallest subnormal 2^-24");
        assertEquals(1000.5, actual[11], 0.0, "1000.3 rounds to the nearest half, 1000.5");
        assertEquals(Double.doubleToRawLongBits(-0.0), Double.doubleToRawLongBits(actual[10]));
    }

    @Test
    void f16TableAgreesWithNumpyOnEveryExponentAndSign() {
        TensorFile file = Safetensors.read(Fixtures.bytes("f16_table.safetensors"));
        double[] ours = file.get("half").values();
        double[] numpys = file.get("as_f32").values();
        assertEquals(2048, ours.length);
        int nans = 0;
        for (int i = 0; i < ours.length; i++) {
            if (Double.isNaN(numpys[i])) {
                assertTrue(Double.isNaN(ours[i]), "pattern " + i);
                nans++;
            } else {
                assertEquals(Double.doubleToRawLongBits(numpys[i]), Double.doubleToRawLongBits(ours[i]),
                        "pattern index " + i + ": numpy " + numpys[i] + ", ours " + ours[i]);
            }
        }
        assertTrue(nans > 0, "the table covers NaN patterns");
    }

    @Test
    void bf16WithinBfloat16Precision() {
        double[] expected = {1.0, -2.5, 3.14159265, 1e-40, -1e-39, 3.0e38, Double.POSITIVE_INFINITY,
                Double.NEGATIVE_INFINITY, Double.NaN, -0.0, 0.1};
        Tensor b = Safetensors.read(Fixtures.bytes("bf16.safetensors")).get("b");
        assertEquals(DType.BF16, b.dtype());
        double[] actual = b.values();
        for (int i = 0; i < expected.length; i++) {
            assertWithin(expected[i], actual[i], Math.scalb(1.0, -8), Math.scalb(1.0, -133), "b[" + i + "]");
        }
        assertEquals(3.140625, actual[2], 0.0, "pi as bfloat16 0x4049");
        assertEquals(0.10009765625, actual[10], 0.0, "0.1 as bfloat16 0x3dcd");
        assertEquals(Math.scalb(1.0, -133), actual[3], 0.0, "1e-40 is one bfloat16 subnormal step");
    }

    @Test
    void scalarsEmptyTensorsIntegersAndFloat8() {
        TensorFile file = Safetensors.read(Fixtures.bytes("mixed_dtypes.safetensors"));
        assertEquals(List.of("scalar", "empty", "i64", "i32", "i16", "i8", "u64", "u32", "u16", "u8", "bool",
                "f8_e4m3", "f8_e5m2"), List.copyOf(file.names()));

        Tensor scalar = file.get("scalar");
        assertEquals(0, scalar.rank());
        assertArrayEquals(new double[] {42.5}, scalar.values());
        Tensor empty = file.get("empty");
        assertArrayEquals(new long[] {0, 3}, empty.shape());
        assertEquals(0, empty.size());

        assertArrayEquals(new double[] {-(double) (1L << 40), (double) (1L << 53), 0}, file.get("i64").values());
        assertArrayEquals(new double[] {-7, 0, 2147483647}, file.get("i32").values());
        assertArrayEquals(new double[] {-32768, 32767}, file.get("i16").values());
        assertArrayEquals(new double[] {-128, 127}, file.get("i8").values());
        assertArrayEquals(new double[] {1.8446744073709552e19, 5}, file.get("u64").values());
        assertArrayEquals(new double[] {4294967295.0}, file.get("u32").values());
        assertArrayEquals(new double[] {65535, 1}, file.get("u16").values());
        assertArrayEquals(new double[] {0, 255, 7}, file.get("u8").values());
        assertArrayEquals(new double[] {1, 0, 1}, file.get("bool").values());
        assertArrayEquals(new double[] {1.0, 448, -448, Double.NaN, Math.scalb(1.0, -9), 0.5625},
                file.get("f8_e4m3").values());
        assertArrayEquals(new double[] {1.0, 57344, Double.POSITIVE_INFINITY, Math.scalb(1.0, -16), -2.0},
                file.get("f8_e5m2").values());
    }

    /** NaN matches NaN, infinities and zeros match exactly (sign included), others within the tolerance. */
    private static void assertWithin(double expected, double actual, double relative, double absolute, String what) {
        if (Double.isNaN(expected)) {
            assertTrue(Double.isNaN(actual), what + ": expected NaN, got " + actual);
        } else if (Double.isInfinite(expected) || expected == 0) {
            assertEquals(Double.doubleToRawLongBits(expected), Double.doubleToRawLongBits(actual),
                    what + ": expected " + expected + ", got " + actual);
        } else {
            double tolerance = Math.max(Math.abs(expected) * relative, absolute) * (1 + 1e-6);
            assertEquals(expected, actual, tolerance, what);
        }
    }
}
