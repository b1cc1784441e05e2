package io.grokwatch.safetensors;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Damages valid files pseudo-randomly (fixed seed) and requires that {@link Safetensors#read(byte[])} either
 * succeeds or throws {@link SafetensorsFormatException} with a one-line message; any other exception
 * (index out of bounds, negative array size, class cast, null pointer, ...) fails the test.
 */
class SafetensorsFuzzTest {
    private static final List<String> BASES =
            List.of("f64_two_tensors.safetensors", "mixed_dtypes.safetensors", "f32_unpadded.safetensors");
    private static final int VARIANTS_PER_BASE = 1500;
    private static final byte[] JSON_CHARS = "{}[]\",:-0123456789e. \\an".getBytes(StandardCharsets.US_ASCII);
    private static final String[] JSON_VALUES = {"-1", "0", "1", "7", "99999999999999999999", "9223372036854775807",
        "4611686018427387904", "2.5", "1e400", "-0", "\"F64\"", "\"x\"", "null", "true", "[]", "{}", "[0, 0]",
        "[1, 2, 3]", "{\"a\": 1}"};
    private static final Pattern JSON_NUMBER_OR_STRING = Pattern.compile("-?\\d+(\\.\\d+)?|\"[^\"]*\"");

    private int accepted;
    private int rejected;

    @Test
    void damagedFilesAreReadOrRejectedWithAFormatException() {
        Random random = new Random(20240611L);
        for (String base : BASES) {
            byte[] original = Fixtures.bytes(base);
            for (int v = 0; v < VARIANTS_PER_BASE; v++) {
                int kind = random.nextInt(8);
                byte[] damaged = mutate(original, kind, random);
                check(damaged, base + " variant " + v + " (mutation " + kind + ")");
            }
        }
        assertTrue(accepted > 100, "some damage is harmless (e.g. in data bytes): " + accepted);
        assertTrue(rejected > 1000, "most header damage is caught: " + rejected);
    }

    private void check(byte[] bytes, String what) {
        try {
            Safetensors.read(bytes);
            accepted++;
        } catch (SafetensorsFormatException e) {
            String message = e.getMessage();
            assertFalse(message == null || message.isEmpty() || message.contains("\n") || message.contains("\r"),
                    what + ": message must be one non-empty line: " + message);
            rejected++;
        } catch (RuntimeException | Error e) {
            fail(what + ": " + e + "\nfile: " + Arrays.toString(bytes), e);
        }
    }

    private static byte[] mutate(byte[] original, int kind, Random random) {
        byte[] b = original.clone();
        int headerEnd = 8 + (int) ByteBuffer.wrap(original).order(ByteOrder.LITTLE_ENDIAN).getLong();
        switch (kind) {
            case 0 -> { // flip one bit anywhere
                int i = random.nextInt(b.length);
                b[i] ^= (byte) (1 << random.nextInt(8));
            }
            case 1 -> { // flip a few bits in prefix + header
                for (int k = 1 + random.nextInt(3); k > 0; k--) {
                    int i = random.nextInt(headerEnd);
                    b[i] ^= (byte) (1 << random.nextInt(8));
                }
            }
            case 2 -> b = Arrays.copyOf(b, random.nextInt(b.length)); // truncate
            case 3 -> { // replace a header byte with a JSON-significant character
                b[8 + random.nextInt(headerEnd - 8)] = JSON_CHARS[random.nextInt(JSON_CHARS.length)];
            }
            case 4 -> { // rewrite the length prefix
                long length = switch (random.nextInt(3)) {
                    case 0 -> random.nextLong();
                    case 1 -> random.nextInt(b.length + 16);
                    default -> headerEnd - 8 + random.nextInt(17) - 8;
                };
                ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(0, length);
            }
            case 5 -> b = insertOrDelete(b, headerEnd, random);
            case 6 -> { // set random bytes anywhere
                for (int k = 1 + random.nextInt(8); k > 0; k--) {
                    b[random.nextInt(b.length)] = (byte) random.nextInt(256);
                }
            }
            default -> b = replaceJsonValue(b, headerEnd, random);
        }
        return b;
    }

    /** Inserts or deletes one header byte and keeps the length prefix consistent, so the JSON is what changes. */
    private static byte[] insertOrDelete(byte[] b, int headerEnd, Random random) {
        int at = 8 + random.nextInt(headerEnd - 8);
        byte[] out;
        if (random.nextBoolean()) {
            out = new byte[b.length + 1];
            System.arraycopy(b, 0, out, 0, at);
            out[at] = JSON_CHARS[random.nextInt(JSON_CHARS.length)];
            System.arraycopy(b, at, out, at + 1, b.length - at);
            ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN).putLong(0, headerEnd - 8 + 1);
        } else {
            out = new byte[b.length - 1];
            System.arraycopy(b, 0, out, 0, at);
            System.arraycopy(b, at + 1, out, at, b.length - at - 1);
            ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN).putLong(0, headerEnd - 8 - 1);
        }
        return out;
    }

    /** Swaps one number or string of the header JSON for a hostile value; the header is re-framed. */
    private static byte[] replaceJsonValue(byte[] b, int headerEnd, Random random) {
        String header = new String(b, 8, headerEnd - 8, StandardCharsets.UTF_8);
        Matcher m = JSON_NUMBER_OR_STRING.matcher(header);
        int count = 0;
        while (m.find()) {
            count++;
        }
        int target = random.nextInt(count);
        m.reset();
        for (int i = 0; i <= target; i++) {
            m.find();
        }
        String replaced = header.substring(0, m.start()) + JSON_VALUES[random.nextInt(JSON_VALUES.length)]
                + header.substring(m.end());
        byte[] json = replaced.getBytes(StandardCharsets.UTF_8);
        byte[] data = Arrays.copyOfRange(b, headerEnd, b.length);
        return ByteBuffer.allocate(8 + json.length + data.length).order(ByteOrder.LITTLE_ENDIAN)
                .putLong(json.length).put(json).put(data).array();
    }
}
