package io.grokwatch.trainer;

import io.grokwatch.records.RunEndRecord;

import io.grokwatch.kafka.CheckpointTooLargeException;
import io.grokwatch.kafka.ClientConfigs;
import io.grokwatch.kafka.Topics;
import io.grokwatch.model.Parameters;
import io.grokwatch.run.CheckpointMetadata;
import io.grokwatch.run.CheckpointRecord;
import io.grokwatch.run.RunDescriptor;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.common.utils.Utils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutionException;

/**
 * Publishes one run: its descriptor (compacted topic, keyed by run id) and then its checkpoints, in order,
 * through an idempotent producer (so retries never duplicate or reorder a run's checkpoints). Sends are
 * synchronous: a checkpoint is acknowledged before training goes on, which bounds memory and makes
 * failures surface where they happen. A broker that cannot be reached (an outage, a restart) is waited for:
 * the send is retried with backoff, with a warning per attempt, for as long as it takes, so a training run
 * rides out the outage instead of exiting mid-run.
 */
public final class RunPublisher implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RunPublisher.class);
    /** Backoff between attempts while the broker is away: doubling from the first to the last. */
    static final Duration FIRST_BACKOFF = Duration.ofSeconds(1);
    static final Duration MAX_BACKOFF = Duration.ofSeconds(30);
    /** Records read per step when looking back through the run's partition for its last checkpoint. */
    private static final int LOOK_BACK = 32;

    private final KafkaProducer<String, byte[]> producer;
    private final String bootstrapServers;
    private final Topics topics;
    private final String runId;

    public RunPublisher(String bootstrapServers, Topics topics, String runId) {
        this(bootstrapServers, topics, runId, java.util.Map.of());
    }

    /**
     * @param producerOverrides producer settings over the defaults (e.g. shorter timeouts, to meet an outage
     *                          sooner in a test)
     */
    public RunPublisher(String bootstrapServers, Topics topics, String runId, java.util.Map<String, ?> producerOverrides) {
        this.bootstrapServers = bootstrapServers;
        this.topics = topics;
        this.runId = runId;
        java.util.Properties p = ClientConfigs.producer(bootstrapServers, "grokwatch-trainer-" + runId);
        p.putAll(producerOverrides);
        this.producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer());
    }

    public void publishDescriptor(RunDescriptor descriptor) {
        if (!descriptor.runId().equals(runId)) {
            throw new IllegalArgumentException("descriptor is for run '" + descriptor.runId() + "', publisher for '"
                    + runId + "'");
        }
        send(topics.runs(), descriptor.toBytes());
    }

    /**
     * Reports this publisher's producer metrics ({@code kafka_producer_*}: sends, errors, retries, latency) on
     * {@code registry} until the returned binding is closed.
     */
    public io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics bindMetrics(
            io.micrometer.core.instrument.MeterRegistry registry) {
        var metrics = new io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics(producer);
        metrics.bindTo(registry);
        return metrics;
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

    /**
     * Says the run has ended after the checkpoint of {@code lastStep} ({@link RunEndRecord}): the analyzer resolves its
     * alerts and stops expecting checkpoints of it.
     *
     * @param status one of {@link RunEndRecord#STATUSES}
     */
    public RecordMetadata publishEnd(String status, long lastStep) {
        return send(topics.checkpoints(), new RunEndRecord(runId, status, lastStep).toBytes(), RUN_END_HEADERS);
    }

    /** The header that tells a run's end from a checkpoint. */
    private static final List<org.apache.kafka.common.header.Header> RUN_END_HEADERS = List.of(
            new org.apache.kafka.common.header.internals.RecordHeader(RunEndRecord.HEADER,
                    RunEndRecord.HEADER_VALUE.getBytes(StandardCharsets.UTF_8)));

    private RecordMetadata send(String topic, byte[] value) {
        return send(topic, value, List.of());
    }

    private RecordMetadata send(String topic, byte[] value, List<org.apache.kafka.common.header.Header> headers) {
        long outageStart = 0;
        Duration backoff = FIRST_BACKOFF;
        for (int attempt = 1; ; attempt++) {
            RuntimeException retriable;
            try {
                RecordMetadata m = producer.send(new ProducerRecord<>(topic, null, runId, value, headers)).get();
                if (outageStart != 0) {
                    LOG.info("run {}: the broker is back; published to {} after {} s", runId, topic,
                            (System.nanoTime() - outageStart) / 1_000_000_000L);
                }
                return m;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while publishing to " + topic, e);
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof RetriableException r)) {
                    throw new IllegalStateException("publishing to " + topic + " failed: " + e.getCause().getMessage(),
                            e.getCause());
                }
                retriable = r;
            } catch (RetriableException e) {
                retriable = e;
            }
            if (outageStart == 0) {
                outageStart = System.nanoTime();
            }
            LOG.warn("run {}: publishing to {} failed ({}), attempt {}, {} s into the outage; retrying in {} s",
                    runId, topic, retriable.getMessage(), attempt, (System.nanoTime() - outageStart) / 1_000_000_000L,
                    backoff.toSeconds());
            try {
                Thread.sleep(backoff.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for the broker to publish to " + topic, e);
            }
            backoff = backoff.multipliedBy(2).compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : backoff.multipliedBy(2);
        }
    }

    /**
     * The step of this run's last checkpoint on the checkpoints topic, or -1 if it has none: a rerun of the run
     * continues after it. The run's checkpoints all sit on the partition its id hashes to, in step order, so the
     * partition is read backwards from its end until one of the run's records turns up.
     */
    public long lastPublishedStep() {
        java.util.Properties p = ClientConfigs.consumer(bootstrapServers, "grokwatch-trainer-resume-" + runId);
        p.put("enable.auto.commit", "false");
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(p, new StringDeserializer(),
                new ByteArrayDeserializer())) {
            List<PartitionInfo> partitions = consumer.partitionsFor(topics.checkpoints(), Duration.ofSeconds(60));
            if (partitions == null || partitions.isEmpty()) {
                return -1;
            }
            // The producer's default partitioner: murmur2 of the key bytes.
            int partition = Utils.toPositive(Utils.murmur2(runId.getBytes(StandardCharsets.UTF_8)))
                    % partitions.size();
            TopicPartition tp = new TopicPartition(topics.checkpoints(), partition);
            consumer.assign(List.of(tp));
            long begin = consumer.beginningOffsets(List.of(tp)).get(tp);
            long end = consumer.endOffsets(List.of(tp)).get(tp);
            for (long to = end; to > begin; to -= LOOK_BACK) {
                long from = Math.max(begin, to - LOOK_BACK);
                consumer.seek(tp, from);
                long last = -1;
                long position = from;
                while (position < to) {
                    var records = consumer.poll(Duration.ofSeconds(5));
                    if (records.isEmpty()) {
                        break;
                    }
                    for (ConsumerRecord<String, byte[]> r : records) {
                        if (r.offset() < to && runId.equals(r.key()) && r.value() != null) {
                            last = Math.max(last, stepOf(r.value()));
                        }
                        position = r.offset() + 1;
                    }
                }
                if (last >= 0) {
                    return last;
                }
            }
            return -1;
        }
    }

    private static long stepOf(byte[] checkpoint) {
        try {
            return CheckpointRecord.decode(checkpoint).metadata().step();
        } catch (RuntimeException e) {
            return -1; // not a readable checkpoint: the analyzer dead-letters it; it continues nothing
        }
    }

    @Override
    public void close() {
        producer.close(Duration.ofSeconds(10));
    }
}
