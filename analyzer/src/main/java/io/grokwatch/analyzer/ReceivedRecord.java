package io.grokwatch.analyzer;

import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;

import java.util.Optional;

/** An input record as it arrived, with its source coordinates: what a dead letter needs, also after a wait. */
record ReceivedRecord(String key, byte[] value, long timestampMs, String topic, int partition, long offset) {
    ReceivedRecord {
        value = value == null ? new byte[0] : value;
        topic = topic == null ? "" : topic;
    }

    static ReceivedRecord of(Record<String, byte[]> record, Optional<RecordMetadata> source) {
        return new ReceivedRecord(record.key(), record.value(), record.timestamp(),
                source.map(RecordMetadata::topic).orElse(""), source.map(RecordMetadata::partition).orElse(-1),
                source.map(RecordMetadata::offset).orElse(-1L));
    }
}
