package io.grokwatch.safetensors;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Reads and writes the Hugging Face safetensors format: an unsigned little-endian u64 header length, that many
 * bytes of UTF-8 JSON ({@code name -> {dtype, shape, data_offsets}} plus optional string
 * {@code __metadata__}), then the little-endian row-major data the offsets point into.
 *
 * <p>Reading is defensive: any input either yields a {@link TensorFile} or throws a one-line
 * {@link SafetensorsFormatException}; nothing is allocated beyond what the file's own size justifies. The
 * reader tolerates gaps between tensors and trailing bytes in the data section; the writer never produces
 * them. Written headers are padded with spaces so the data section starts 8-byte aligned.
 */
public final class Safetensors {
    /** Headers longer than this are rejected (real ones are kilobytes). */
    public static final long MAX_HEADER_BYTES = Header.MAX_HEADER_BYTES;

    private static final int PREFIX_BYTES = 8;
    private static final int ALIGNMENT = 8;
    private static final int CHUNK_ELEMENTS = 8192;
    private static final int READ_CHUNK_BYTES = 1 << 24;

    private Safetensors() {
    }

    /**
     * Parses a whole file held in memory.
     *
     * @throws SafetensorsFormatException if the bytes are not a valid safetensors file
     */
    public static TensorFile read(byte[] bytes) {
        Objects.requireNonNull(bytes, "bytes");
        try {
            return read(new ArraySource(bytes));
        } catch (IOException e) {
            throw new UncheckedIOException(e); // an in-memory source does no I/O
        }
    }

    /**
     * Reads a file, loading only the header and then each tensor's byte range (files may exceed 2 GB).
     *
     * @throws SafetensorsFormatException if the file is malformed; the message starts with the path
     * @throws IOException                if the file cannot be read
     */
    public static TensorFile read(Path path) throws IOException {
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            return read(new ChannelSource(channel));
        } catch (SafetensorsFormatException e) {
            throw new SafetensorsFormatException(path + ": " + e.getMessage(), e);
        }
    }

    /**
     * Encodes the tensors in order, each in its dtype.
     *
     * @throws IllegalArgumentException if a tensor's dtype is not {@linkplain DType#isWritable() writable}
     *                                  or the result would not fit in one array
     */
    public static byte[] write(TensorFile file) {
        Layout layout = layout(file);
        if (layout.totalBytes() > Tensor.MAX_ELEMENTS) {
            throw new IllegalArgumentException("encoded file would take " + layout.totalBytes()
                    + " bytes, too many for a byte array; write to a Path instead");
        }
        ByteBuffer out = ByteBuffer.allocate((int) layout.totalBytes());
        try {
            emit(file, layout, out::put);
        } catch (IOException e) {
            throw new UncheckedIOException(e); // an in-memory sink does no I/O
        }
        return out.array();
    }

    /**
     * Writes {@code file} to {@code path}, replacing it atomically where the file system allows, so a reader
     * watching the directory never sees a half-written checkpoint.
     *
     * @throws IllegalArgumentException if a tensor's dtype is not {@linkplain DType#isWritable() writable}
     */
    public static void write(TensorFile file, Path path) throws IOException {
        Layout layout = layout(file);
        Path target = path.toAbsolutePath();
        Path temp = target.resolveSibling("." + target.getFileName() + "."
                + Long.toHexString(ThreadLocalRandom.current().nextLong()) + ".tmp");
        try {
            try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.CREATE_NEW,
                    StandardOpenOption.WRITE)) {
                emit(file, layout, chunk -> {
                    while (chunk.hasRemaining()) {
                        channel.write(chunk);
                    }
                });
            }
            try {
                Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(temp);
        }
    }

    // ---------------------------------------------------------------- reading

    private static TensorFile read(Source source) throws IOException {
        long fileSize = source.size();
        if (fileSize < PREFIX_BYTES) {
            throw Header.fail("file shorter than the 8-byte header length (" + fileSize + " bytes)");
        }
        long headerLength = source.read(0, PREFIX_BYTES).getLong();
        if (headerLength < 0 || headerLength > MAX_HEADER_BYTES) {
            throw Header.fail("header length " + Long.toUnsignedString(headerLength) + " exceeds the "
                    + MAX_HEADER_BYTES + "-byte limit");
        }
        if (headerLength > fileSize - PREFIX_BYTES) {
            throw Header.fail("header length " + headerLength + " exceeds the " + (fileSize - PREFIX_BYTES)
                    + " bytes that follow the length prefix in the " + fileSize + "-byte file");
        }
        int h = (int) headerLength;
        long dataStart = PREFIX_BYTES + headerLength;
        ByteBuffer headerBytes = source.read(PREFIX_BYTES, h);
        Header header = Header.parse(headerBytes.array(), headerBytes.arrayOffset() + headerBytes.position(), h,
                fileSize - dataStart);

        List<Tensor> tensors = new ArrayList<>(header.entries().size());
        for (Header.Entry e : header.entries()) {
            // Header.parse guarantees elements * byteSize == byteLength <= data section, elements <= MAX_ELEMENTS;
            // the byte length may still exceed an int, hence the chunks
            int n = (int) e.elements();
            int size = e.dtype().byteSize();
            double[] values = new double[n];
            for (int from = 0, count; from < n; from += count) {
                count = Math.min(READ_CHUNK_BYTES / size, n - from);
                ByteBuffer data = source.read(dataStart + e.begin() + (long) from * size, count * size);
                decode(e.dtype(), data, values, from, count);
            }
            tensors.add(new Tensor(e.name(), e.dtype(), e.shape(), values));
        }
        return new TensorFile(tensors, header.metadata());
    }

    /** Converts {@code count} little-endian elements from {@code src} into {@code values[from..]}. */
    static void decode(DType dtype, ByteBuffer src, double[] values, int from, int count) {
        int n = from + count;
        switch (dtype) {
            case F64 -> src.asDoubleBuffer().get(values, from, count);
            case F32 -> {
                for (int i = from; i < n; i++) {
                    values[i] = src.getFloat();
                }
            }
            case F16 -> {
                for (int i = from; i < n; i++) {
                    values[i] = NarrowFloats.halfToFloat(src.getShort());
                }
            }
            case BF16 -> {
                for (int i = from; i < n; i++) {
                    values[i] = NarrowFloats.bfloat16ToFloat(src.getShort());
                }
            }
            case F8_E5M2 -> {
                for (int i = from; i < n; i++) {
                    values[i] = NarrowFloats.e5m2ToFloat(src.get());
                }
            }
            case F8_E4M3 -> {
                for (int i = from; i < n; i++) {
                    values[i] = NarrowFloats.e4m3ToFloat(src.get());
                }
            }
            case I64 -> {
                for (int i = from; i < n; i++) {
                    values[i] = src.getLong();
                }
            }
            case I32 -> {
                for (int i = from; i < n; i++) {
                    values[i] = src.getInt();
                }
            }
            case I16 -> {
                for (int i = from; i < n; i++) {
                    values[i] = src.getShort();
                }
            }
            case I8 -> {
                for (int i = from; i < n; i++) {
                    values[i] = src.get();
                }
            }
            case U64 -> {
                for (int i = from; i < n; i++) {
                    values[i] = unsignedToDouble(src.getLong());
                }
            }
            case U32 -> {
                for (int i = from; i < n; i++) {
                    values[i] = Integer.toUnsignedLong(src.getInt());
                }
            }
            case U16 -> {
                for (int i = from; i < n; i++) {
                    values[i] = Short.toUnsignedInt(src.getShort());
                }
            }
            case U8 -> {
                for (int i = from; i < n; i++) {
                    values[i] = Byte.toUnsignedInt(src.get());
                }
            }
            case BOOL -> {
                for (int i = from; i < n; i++) {
                    values[i] = src.get() != 0 ? 1.0 : 0.0;
                }
            }
        }
    }

    /** Correctly rounded conversion of an unsigned 64-bit value (halve, keep a sticky bit, double). */
    static double unsignedToDouble(long x) {
        if (x >= 0) {
            return x;
        }
        return ((double) ((x >>> 1) | (x & 1))) * 2.0;
    }

    /** Random access to the bytes of a file; buffers come back little-endian and positioned at 0. */
    private interface Source {
        long size() throws IOException;

        ByteBuffer read(long position, int length) throws IOException;
    }

    private record ArraySource(byte[] bytes) implements Source {
        @Override
        public long size() {
            return bytes.length;
        }

        @Override
        public ByteBuffer read(long position, int length) {
            return ByteBuffer.wrap(bytes, (int) position, length).slice().order(ByteOrder.LITTLE_ENDIAN);
        }
    }

    private record ChannelSource(FileChannel channel) implements Source {
        @Override
        public long size() throws IOException {
            return channel.size();
        }

        @Override
        public ByteBuffer read(long position, int length) throws IOException {
            ByteBuffer buffer = ByteBuffer.allocate(length);
            while (buffer.hasRemaining()) {
                if (channel.read(buffer, position + buffer.position()) < 0) {
                    throw new EOFException("file ended at byte " + (position + buffer.position())
                            + " while reading " + length + " bytes from " + position + " (was it truncated?)");
                }
            }
            return buffer.flip().order(ByteOrder.LITTLE_ENDIAN);
        }
    }

    // ---------------------------------------------------------------- writing

    /** The padded header and the total encoded size. */
    private record Layout(byte[] header, long totalBytes) {
    }

    private static Layout layout(TensorFile file) {
        Objects.requireNonNull(file, "file");
        ObjectNode root = Header.MAPPER.createObjectNode();
        if (!file.metadata().isEmpty()) {
            ObjectNode metadata = root.putObject(TensorFile.METADATA_KEY);
            file.metadata().forEach(metadata::put);
        }
        long offset = 0;
        for (Tensor t : file.tensors()) {
            if (!t.dtype().isWritable()) {
                throw new IllegalArgumentException("tensor '" + t.name() + "': writing " + t.dtype()
                        + " is not supported, only F64 and F32 (use withDType)");
            }
            ObjectNode entry = root.putObject(t.name());
            entry.put("dtype", t.dtype().name());
            ArrayNode shape = entry.putArray("shape");
            for (long dim : t.shape()) {
                shape.add(dim);
            }
            long end = offset + t.byteSize();
            entry.putArray("data_offsets").add(offset).add(end);
            offset = end;
        }
        byte[] json;
        try {
            json = Header.MAPPER.writeValueAsBytes(root);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot encode header: " + e.getOriginalMessage(), e);
        }
        int padded = json.length + (-json.length & (ALIGNMENT - 1)); // PREFIX_BYTES is itself aligned
        if (padded > MAX_HEADER_BYTES) {
            throw new IllegalArgumentException("header would take " + padded + " bytes, over the "
                    + MAX_HEADER_BYTES + "-byte limit readers accept");
        }
        byte[] header = new byte[PREFIX_BYTES + padded];
        ByteBuffer.wrap(header).order(ByteOrder.LITTLE_ENDIAN).putLong(padded).put(json);
        for (int i = PREFIX_BYTES + json.length; i < header.length; i++) {
            header[i] = ' ';
        }
        return new Layout(header, header.length + offset);
    }

    /** Destination of encoded chunks; each call consumes the whole buffer. */
    @FunctionalInterface
    private interface Sink {
        void accept(ByteBuffer chunk) throws IOException;
    }

    private static void emit(TensorFile file, Layout layout, Sink sink) throws IOException {
        sink.accept(ByteBuffer.wrap(layout.header()));
        ByteBuffer chunk = ByteBuffer.allocate(CHUNK_ELEMENTS * Double.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        for (Tensor t : file.tensors()) {
            double[] values = t.values();
            for (int from = 0, to; from < values.length; from = to) {
                to = from + Math.min(CHUNK_ELEMENTS, values.length - from);
                chunk.clear();
                if (t.dtype() == DType.F64) {
                    for (int i = from; i < to; i++) {
                        chunk.putDouble(values[i]);
                    }
                } else {
                    for (int i = from; i < to; i++) {
                        chunk.putFloat((float) values[i]);
                    }
                }
                sink.accept(chunk.flip());
            }
        }
    }
}
