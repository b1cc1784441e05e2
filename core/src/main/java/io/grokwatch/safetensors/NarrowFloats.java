package io.grokwatch.safetensors;

/**
 * Widening conversions of the narrow floating-point formats safetensors can hold. Java 17 has no
 * {@code Float.float16ToFloat} (added in Java 20), so the IEEE half conversion is done here by hand.
 * Every conversion is exact: each narrow value is representable as a float.
 */
final class NarrowFloats {
    private NarrowFloats() {
    }

    /** IEEE 754 binary16 (1 sign, 5 exponent, 10 mantissa bits) in the low 16 bits of {@code bits}. */
    static float halfToFloat(int bits) {
        int sign = (bits & 0x8000) << 16;
        int exponent = (bits >>> 10) & 0x1f;
        int mantissa = bits & 0x3ff;
        if (exponent == 0) {
            // zero or subnormal: mantissa * 2^-24, exact in float
            float magnitude = Math.scalb((float) mantissa, -24);
            return sign == 0 ? magnitude : -magnitude;
        }
        if (exponent == 0x1f) {
            // infinity (mantissa 0) or NaN (payload kept in the top mantissa bits)
            return Float.intBitsToFloat(sign | 0x7f80_0000 | (mantissa << 13));
        }
        return Float.intBitsToFloat(sign | ((exponent - 15 + 127) << 23) | (mantissa << 13));
    }

    /** bfloat16: the upper 16 bits of a binary32, in the low 16 bits of {@code bits}. */
    static float bfloat16ToFloat(int bits) {
        return Float.intBitsToFloat((bits & 0xffff) << 16);
    }

    /** float8 e5m2: the upper 8 bits of an IEEE half, in the low 8 bits of {@code bits}. */
    static float e5m2ToFloat(int bits) {
        return halfToFloat((bits & 0xff) << 8);
    }

    /**
     * float8 e4m3fn (the variant torch and safetensors call F8_E4M3): bias 7, no infinities, only
     * S.1111.111 is NaN, largest finite value 448.
     */
    static float e4m3ToFloat(int bits) {
        boolean negative = (bits & 0x80) != 0;
        int exponent = (bits >>> 3) & 0xf;
        int mantissa = bits & 0x7;
        float magnitude;
        if (exponent == 0xf && mantissa == 0x7) {
            magnitude = Float.NaN;
        } else if (exponent == 0) {
            magnitude = Math.scalb((float) mantissa, -9);
        } else {
            magnitude = Math.scalb((float) (8 | mantissa), exponent - 7 - 3);
        }
        return negative ? -magnitude : magnitude;
    }
}
