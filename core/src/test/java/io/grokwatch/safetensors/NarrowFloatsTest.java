package io.grokwatch.safetensors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class NarrowFloatsTest {
    /** (-1)^s * 2^(e-15) * (1 + m/1024) by the textbook formula, in double. */
    private static double halfByFormula(int bits) {
        int s = (bits >>> 15) & 1;
        int e = (bits >>> 10) & 0x1f;
        int m = bits & 0x3ff;
        double sign = s == 0 ? 1 : -1;
        if (e == 0x1f) {
            return m == 0 ? sign * Double.POSITIVE_INFINITY : Double.NaN;
        }
        if (e == 0) {
            return sign * m * Math.pow(2, -24);
        }
        return sign * (1 + m / 1024.0) * Math.pow(2, e - 15);
    }

    @Test
    void everyHalfBitPatternMatchesTheFormula() {
        for (int b = 0; b < 0x10000; b++) {
            int bits = b;
            double expected = halfByFormula(bits);
            float actual = NarrowFloats.halfToFloat(bits);
            if (Double.isNaN(expected)) {
                assertTrue(Float.isNaN(actual), Integer.toHexString(bits));
            } else {
                assertEquals(Double.doubleToRawLongBits(expected), Double.doubleToRawLongBits(actual),
                        () -> Integer.toHexString(bits) + ": expected " + expected + ", got " + actual);
            }
        }
    }

    @Test
    void halfLandmarks() {
        assertEquals(1.0f, NarrowFloats.halfToFloat(0x3c00));
        assertEquals(-2.0f, NarrowFloats.halfToFloat(0xc000));
        assertEquals(65504.0f, NarrowFloats.halfToFloat(0x7bff), "largest finite");
        assertEquals(0x1p-14f, NarrowFloats.halfToFloat(0x0400), "smallest normal");
        assertEquals(0x1p-24f, NarrowFloats.halfToFloat(0x0001), "smallest subnormal");
        assertEquals(-0x3ffp-24f, NarrowFloats.halfToFloat(0x83ff), "largest negative subnormal");
        assertEquals(Float.POSITIVE_INFINITY, NarrowFloats.halfToFloat(0x7c00));
        assertEquals(Float.NEGATIVE_INFINITY, NarrowFloats.halfToFloat(0xfc00));
        assertTrue(Float.isNaN(NarrowFloats.halfToFloat(0x7e00)));
        assertTrue(Float.isNaN(NarrowFloats.halfToFloat(0xfc01)));
        assertEquals(Float.floatToRawIntBits(-0.0f), Float.floatToRawIntBits(NarrowFloats.halfToFloat(0x8000)));
        assertEquals(1.0f, NarrowFloats.halfToFloat((short) 0x3c00), "sign-extended input is masked");
        assertEquals(-2.0f, NarrowFloats.halfToFloat((short) 0xc000));
    }

    @Test
    void bfloat16IsTheUpperHalfOfAFloat() {
        for (float f : new float[] {1.0f, -2.5f, 3.140625f, 0x1p-133f, -0x1p-126f, Float.POSITIVE_INFINITY, -0.0f}) {
            int upper = Float.floatToRawIntBits(f) >>> 16;
            assertEquals(Float.floatToRawIntBits(f), Float.floatToRawIntBits(NarrowFloats.bfloat16ToFloat(upper)));
            assertEquals(f, NarrowFloats.bfloat16ToFloat((short) upper), "sign-extended input is masked");
        }
        assertTrue(Float.isNaN(NarrowFloats.bfloat16ToFloat(0x7fc0)));
    }

    @Test
    void float8Formats() {
        // e4m3fn: bias 7, S.1111.111 is NaN, no infinities
        assertEquals(1.0f, NarrowFloats.e4m3ToFloat(0x38));
        assertEquals(448.0f, NarrowFloats.e4m3ToFloat(0x7e));
        assertEquals(-448.0f, NarrowFloats.e4m3ToFloat((byte) 0xfe));
        assertEquals(0x1p-9f, NarrowFloats.e4m3ToFloat(0x01));
        assertEquals(0x7p-9f, NarrowFloats.e4m3ToFloat(0x07), "largest subnormal");
        assertEquals(0x1p-6f, NarrowFloats.e4m3ToFloat(0x08), "smallest normal");
        assertEquals(256.0f, NarrowFloats.e4m3ToFloat(0x78), "exponent 15 with mantissa < 7 is finite");
        assertTrue(Float.isNaN(NarrowFloats.e4m3ToFloat(0x7f)));
        assertTrue(Float.isNaN(NarrowFloats.e4m3ToFloat(0xff)));
        // e5m2: upper byte of a half
        assertEquals(1.0f, NarrowFloats.e5m2ToFloat(0x3c));
        assertEquals(57344.0f, NarrowFloats.e5m2ToFloat(0x7b));
        assertEquals(Float.NEGATIVE_INFINITY, NarrowFloats.e5m2ToFloat((byte) 0xfc));
        assertEquals(0x1p-16f, NarrowFloats.e5m2ToFloat(0x01));
    }

    @Test
    void unsignedSixtyFourBitConversionRoundsCorrectly() {
        assertEquals(0x1p64, Safetensors.unsignedToDouble(-1L));
        assertEquals(0x1p63, Safetensors.unsignedToDouble(Long.MIN_VALUE));
        assertEquals(5.0, Safetensors.unsignedToDouble(5L));
        // 2^63 + 2^10 + 1 is nearer to 2^63 + 2^11 than to 2^63: the sticky bit must survive the halving
        assertEquals(0x1p63 + 0x1p11, Safetensors.unsignedToDouble(Long.MIN_VALUE + 1025L));
        assertEquals(0x1p63, Safetensors.unsignedToDouble(Long.MIN_VALUE + 1024L), "tie rounds to even");
    }
}
