package io.grokwatch.kafka;

import io.grokwatch.records.AlertRecord;
import io.grokwatch.records.DeadLetterRecord;
import io.grokwatch.records.SpectrumRecord;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;

import java.util.function.Function;

/**
 * Kafka serdes of the typed records on grokwatch's topics (the JSON of {@link io.grokwatch.records.WireJson}). A
 * deserializer throws {@link io.grokwatch.records.RecordFormatException} for bytes that are not its record; a null
 * value (a tombstone) reads as null.
 */
public final class RecordSerdes {
    private RecordSerdes() {
    }

    public static Serde<SpectrumRecord> spectrum() {
        return of(SpectrumRecord::toBytes, SpectrumRecord::read);
    }

    public static Serde<AlertRecord> alert() {
        return of(AlertRecord::toBytes, AlertRecord::read);
    }

    public static Serde<DeadLetterRecord> deadLetter() {
        return of(DeadLetterRecord::toBytes, DeadLetterRecord::read);
    }

    private static <T> Serde<T> of(Function<T, byte[]> write, Function<byte[], T> read) {
        Serializer<T> serializer = (topic, value) -> value == null ? null : write.apply(value);
        Deserializer<T> deserializer = (topic, bytes) -> bytes == null ? null : read.apply(bytes);
        return Serdes.serdeFrom(serializer, deserializer);
    }
}
