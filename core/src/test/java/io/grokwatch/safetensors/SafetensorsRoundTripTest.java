package io.grokwatch.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsRoundTripTest {
    private static TensorFile sample() {
        return TensorFile.builder()
                .add(Tensor.f64("net.0.weight", new long[] {3, 4}, new double[] {
                        0.5, -1.25, 3.0, 0.1,
                        -0.0, Double.MIN_VALUE, Double.MAX_VALUE, Double.NaN,
                        Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, 1e-300, Math.PI}))
                .add(Tensor.f32("net.0.bias", new long[] {3}, new double[] {0.1, -2.5, 1e-40}))
                .add(Tensor.f64("net.3.weight", new long[] {2, 3}, new double[] {1, 2, 3, 4, 5, 6}))
                .metadata("step", "1200")
                .metadata("format", "pt")
                .build();
    }

    /** What an F32 tensor holds after a round trip: each value rounded to float. */
    private static double[] roundedToFloat(double[] values) {
        double[] out = new double[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = (float) values[i];
        }
        return out;
    }

    @Test
    void f64AndF32RoundTripWithMetadata() {
        TensorFile original = sample();
        TensorFile back = Safetensors.read(Safetensors.write(original));

        assertEquals(Map.of("step", "1200", "format", "pt"), back.metadata());
        // F64 exactly, bit for bit (including -0.0, NaN, subnormals, infinities)
        assertEquals(original.get("net.0.weight"), back.get("net.0.weight"));
        assertEquals(original.get("net.3.weight"), back.get("net.3.weight"));
        // F32 exactly equal to the float rounding of the input
        Tensor bias = back.get("net.0.bias");
        assertEquals(DType.F32, bias.dtype());
        assertArrayEquals(new long[] {3}, bias.shape());
        assertArrayEquals(roundedToFloat(new double[] {0.1, -2.5, 1e-40}), bias.values());
    }

    @Test
    void insertionOrderOfTensorsAndMetadataIsPreserved() {
        TensorFile file = TensorFile.builder()
                .add(Tensor.f64("z", new long[] {1}, new double[] {1}))
                .add(Tensor.f32("a", new long[] {1}, new double[] {2}))
                .add(Tensor.f64("m", new long[] {1}, new double[] {3}))
                .add(Tensor.f64("b", new long[] {1}, new double[] {4}))
                .metadata("zeta", "1").metadata("alpha", "2")
                .build();
        TensorFile back = Safetensors.read(Safetensors.write(file));
        assertEquals(List.of("z", "a", "m", "b"), List.copyOf(back.names()));
        assertEquals(List.of("zeta", "alpha"), List.copyOf(back.metadata().keySet()));
        assertEquals(file, back);
    }

    @Test
    void headerIsPaddedWithSpacesSoDataStartsEightByteAligned() {
        for (int k = 0; k < 24; k++) {
            TensorFile file = TensorFile.builder()
                    .add(Tensor.f64("w", new long[] {2}, new double[] {1.5, -2.5}))
                    .metadata("note", "x".repeat(k))
                    .build();
            byte[] bytes = Safetensors.write(file);
            long headerLength = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong();
            assertEquals(0, (8 + headerLength) % 8, "data section offset for note length " + k);
            assertEquals(8 + headerLength + 16, bytes.length);
            String header = new String(bytes, 8, (int) headerLength, StandardCharsets.UTF_8);
            String json = header.stripTrailing();
            assertTrue(json.endsWith("}"), header);
            assertTrue(header.length() - json.length() < 8, "at most 7 spaces of padding: '" + header + "'");
            assertEquals(file, Safetensors.read(bytes));
        }
    }

    @Test
    void dataIsLittleEndianRowMajorAtTheDeclaredOffsets() {
        TensorFile file = TensorFile.of(
                Tensor.f32("a", new long[] {2}, new double[] {1.0, -2.0}),
                Tensor.f64("b", new long[] {1, 2}, new double[] {0.5, 3.0}));
        byte[] bytes = Safetensors.write(file);
        ByteBuffer buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        int dataStart = 8 + (int) buf.getLong(0);
        String header = new String(bytes, 8, dataStart - 8, StandardCharsets.UTF_8);
        assertTrue(header.contains("\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}"), header);
        assertTrue(header.contains("\"b\":{\"dtype\":\"F64\",\"shape\":[1,2],\"data_offsets\":[8,24]}"), header);
        assertEquals(1.0f, buf.getFloat(dataStart));
        assertEquals(-2.0f, buf.getFloat(dataStart + 4));
        assertEquals(0.5, buf.getDouble(dataStart + 8));
        assertEquals(3.0, buf.getDouble(dataStart + 16));
        assertEquals(dataStart + 24, bytes.length);
    }

    @Test
    void scalarsEmptyTensorsAndEmptyFilesRoundTrip() {
        TensorFile file = TensorFile.builder()
                .add(Tensor.f64("scalar", new long[] {}, new double[] {42.5}))
                .add(Tensor.f32("empty", new long[] {0, 7}, new double[0]))
                .add(Tensor.f64("after", new long[] {1}, new double[] {-1}))
                .build();
        assertEquals(file, Safetensors.read(Safetensors.write(file)));

        TensorFile nothing = TensorFile.of();
        byte[] bytes = Safetensors.write(nothing);
        assertEquals(16, bytes.length, "8-byte prefix + \"{}\" padded to 8");
        assertEquals(nothing, Safetensors.read(bytes));
    }

    @Test
    void nonAsciiNamesAndMetadataSurvive() {
        TensorFile file = TensorFile.builder()
                .add(Tensor.f64("couche.0.poids \u00e9\u00e8 \u4e2d", new long[] {1}, new double[] {7}))
                .metadata("quote\"and\\slash", "line1\nline2 \ud83d\ude00")
                .build();
        assertEquals(file, Safetensors.read(Safetensors.write(file)));
    }

    @Test
    void pathRoundTripReplacesTheFileAndLeavesNoTemporaries(@TempDir Path dir) throws IOException {
        Path target = dir.resolve("ckpt.safetensors");
        Files.writeString(target, "old content");
        TensorFile file = sample();
        Safetensors.write(file, target);

        TensorFile back = Safetensors.read(target);
        assertEquals(file.get("net.0.weight"), back.get("net.0.weight"));
        assertEquals(file.names(), back.names());
        assertArrayEquals(Safetensors.write(file), Files.readAllBytes(target), "same bytes as the in-memory writer");
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(target), files.toList());
        }
    }

    @Test
    void pathReaderHandlesTensorsLargerThanOneReadChunk(@TempDir Path dir) throws IOException {
        int n = (1 << 22) + 3; // F64: 32 MB + 24 bytes, two 16 MB chunks and a remainder
        double[] values = new double[n];
        for (int i = 0; i < n; i++) {
            values[i] = i * 0.25 - 7;
        }
        TensorFile file = TensorFile.of(Tensor.f64("big", new long[] {n}, values));
        Path target = dir.resolve("big.safetensors");
        Safetensors.write(file, target);
        assertEquals(file, Safetensors.read(target));
    }

    @Test
    void writingNarrowTypesIsRejectedUntilConverted() {
        Tensor half = new Tensor("h", DType.F16, new long[] {2}, new double[] {1, 2});
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Safetensors.write(TensorFile.of(half)));
        assertTrue(e.getMessage().contains("'h'") && e.getMessage().contains("F16"), e.getMessage());

        TensorFile converted = TensorFile.of(half.withDType(DType.F32));
        assertEquals(converted, Safetensors.read(Safetensors.write(converted)));
    }
}
