package io.grokwatch.trainer;

import io.grokwatch.kafka.CheckpointTooLargeException;
import io.grokwatch.kafka.ClientConfigs;
import io.grokwatch.kafka.Topics;
import io.grokwatch.model.Parameters;
import io.grokwatch.run.CheckpointMetadata;
import io.grokwatch.run.CheckpointRecord;
import io.grokwatch.run.RunDescriptor;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

import java.time.Duration;
import java.util.concurrent.ExecutionException;

/**
 * Publishes one run: its descriptor (compacted topic, keyed by run id) and then its checkpoints, in order,
 * through an idempotent producer (so retries never duplicate or reorder a run's checkpoints). Sends are
 * synchronous: a checkpoint is acknowledged before training goes on, which bounds memory and makes
 * failures surface where they happen.
 */
public final class RunPublisher implements AutoCloseable {
    private final KafkaProducer<String, byte[]> producer;
    private final Topics topics;
    private final String runId;

    public RunPublisher(String bootstrapServers, Topics topics, String runId) {
        this.topics = topics;
        this.runId = runId;
        this.producer = new KafkaProducer<>(ClientConfigs.producer(bootstrapServers, "grokwatch-trainer-" + runId),
                new StringSerializer(), new ByteArraySerializer());
    }

    public void publishDescriptor(RunDescriptor descriptor) {
        if (!descriptor.runId().equals(runId)) {
            throw new IllegalArgumentException("descriptor is for run '" + descriptor.runId() + "', publisher for '"
                    + runId + "'");
        }
        send(topics.runs(), descriptor.toBytes());
    }

    /** Publishes weights with their metadata; returns the record's offset. */
    public RecordMetadata publishCheckpoint(Parameters weights, CheckpointMetadata metadata) {
        return publishCheckpoint(CheckpointRecord.encode(weights, metadata));
    }

    /** Publishes checkpoint bytes as they are (e.g. a safetensors file written by PyTorch). */
    public RecordMetadata publishCheckpoint(byte[] safetensors) {
        CheckpointTooLargeException.check(safetensors.length);
        return send(topics.checkpoints(), safetensors);
    }

    private RecordMetadata send(String topic, byte[] value) {
        try {
            return producer.send(new ProducerRecord<>(topic, runId, value)).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while publishing to " + topic, e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("publishing to " + topic + " failed: " + e.getCause().getMessage(),
                    e.getCause());
        }
    }

    @Override
    public void close() {
        producer.close(Duration.ofSeconds(10));
    }
}
