package io.grokwatch.safetensors;

import java.util.Optional;

/**
 * Element types of the safetensors format, named exactly as they appear in the header's {@code "dtype"}
 * field. Every type listed here can be read (converted to double); only {@link #F64} and {@link #F32} can
 * be written, because the monitor only ever produces full-precision tensors.
 */
public enum DType {
    F64(8, true),
    F32(4, true),
    F16(2, true),
    BF16(2, true),
    /** float8 with 5 exponent and 2 mantissa bits. */
    F8_E5M2(1, true),
    /** float8 with 4 exponent and 3 mantissa bits, no infinities (torch {@code float8_e4m3fn}). */
    F8_E4M3(1, true),
    I64(8, false),
    I32(4, false),
    I16(2, false),
    I8(1, false),
    /** Unsigned 64-bit; values above 2^53 lose precision when converted to double. */
    U64(8, false),
    U32(4, false),
    U16(2, false),
    U8(1, false),
    /** One byte per element; any non-zero byte reads as 1.0. */
    BOOL(1, false);

    private final int byteSize;
    private final boolean floatingPoint;

    DType(int byteSize, boolean floatingPoint) {
        this.byteSize = byteSize;
        this.floatingPoint = floatingPoint;
    }

    /** Bytes per element. */
    public int byteSize() {
        return byteSize;
    }

    public boolean isFloatingPoint() {
        return floatingPoint;
    }

    /** Whether {@link Safetensors#write} can store tensors of this type (F64 and F32 only). */
    public boolean isWritable() {
        return this == F64 || this == F32;
    }

    /** The type with this header name (case-sensitive, as the format requires), if it is one we know. */
    public static Optional<DType> fromName(String name) {
        for (DType type : values()) {
            if (type.name().equals(name)) {
                return Optional.of(type);
            }
        }
        return Optional.empty();
    }
}
