package io.grokwatch.ui;

import io.grokwatch.records.AlertRecord;
import io.grokwatch.records.RecordFormatException;
import io.grokwatch.records.SpectrumRecord;

import io.grokwatch.kafka.ClientConfigs;
import io.grokwatch.kafka.Topics;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Fills a {@link RunStore} from the topics: the spectra, the alerts and the run descriptors, each read from the
 * beginning by a read-committed consumer of its own with no consumer group (it commits nothing, so a restarted
 * process rebuilds the same state from what the analyzer published). Partitions that appear later (a topic created
 * after the page started) are picked up within {@link #REFRESH}. It owns its thread; {@link #close()} stops it.
 */
public final class TopicFeed implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(TopicFeed.class);
    /** How often the feed looks for new topics and partitions. */
    static final Duration REFRESH = Duration.ofSeconds(2);
    private static final Duration POLL = Duration.ofMillis(200);

    private final KafkaConsumer<byte[], byte[]> consumer;
    private final Topics topics;
    private final RunStore store;
    private final Thread thread;
    private final AtomicBoolean closed = new AtomicBoolean();

    private TopicFeed(String bootstrapServers, Topics topics, RunStore store) {
        this.consumer = new KafkaConsumer<>(properties(bootstrapServers), new ByteArrayDeserializer(),
                new ByteArrayDeserializer());
        this.topics = topics;
        this.store = store;
        this.thread = new Thread(this::run, "grokwatch-ui-feed");
        this.thread.setDaemon(true);
    }

    /** Starts reading the topics into {@code store} on a thread of its own. */
    public static TopicFeed start(String bootstrapServers, Topics topics, RunStore store) {
        TopicFeed f = new TopicFeed(bootstrapServers, topics, store);
        f.thread.start();
        return f;
    }

    /**
     * Reads the topics once, up to their ends as of now, into {@code store} (for a report of runs on a cluster).
     *
     * @throws IllegalStateException if the ends are not reached within {@code timeout}
     */
    public static void readToEnd(String bootstrapServers, Topics topics, RunStore store, Duration timeout) {
        try (TopicFeed f = new TopicFeed(bootstrapServers, topics, store)) {
            f.assign();
            Map<TopicPartition, Long> ends = f.consumer.endOffsets(f.consumer.assignment());
            long deadline = System.nanoTime() + timeout.toNanos();
            while (!reached(f.consumer, ends)) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("could not read " + topics.spectra() + ", " + topics.alerts()
                            + " and " + topics.runs() + " to their ends within " + timeout.toSeconds() + " s");
                }
                f.poll();
            }
        }
    }

    private static boolean reached(KafkaConsumer<byte[], byte[]> c, Map<TopicPartition, Long> ends) {
        for (Map.Entry<TopicPartition, Long> e : ends.entrySet()) {
            if (c.position(e.getKey()) < e.getValue()) {
                return false;
            }
        }
        return true;
    }

    private static Properties properties(String bootstrapServers) {
        Properties p = ClientConfigs.consumer(bootstrapServers, "grokwatch-ui");
        // Assigned partitions, no group: nothing is committed, every start reads the topics from the beginning.
        p.remove(ConsumerConfig.GROUP_ID_CONFIG);
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        p.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, false);
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, "grokwatch-ui");
        return p;
    }

    private void run() {
        long nextRefresh = 0;
        try {
            while (!closed.get()) {
                if (System.nanoTime() >= nextRefresh) {
                    assign();
                    nextRefresh = System.nanoTime() + REFRESH.toNanos();
                }
                poll();
            }
        } catch (WakeupException e) {
            if (!closed.get()) {
                LOG.warn("live page: topic feed woken up unexpectedly", e);
            }
        } catch (RuntimeException e) {
            LOG.error("live page: topic feed stopped: {}", e.toString(), e);
        }
    }

    /** Assigns every partition of the three topics that exists now; new ones start at the beginning. */
    private void assign() {
        Set<TopicPartition> now = new HashSet<>(consumer.assignment());
        List<TopicPartition> all = new ArrayList<>(now);
        List<TopicPartition> added = new ArrayList<>();
        for (String topic : List.of(topics.runs(), topics.spectra(), topics.alerts())) {
            List<PartitionInfo> parts;
            try {
                parts = consumer.partitionsFor(topic, Duration.ofSeconds(5));
            } catch (org.apache.kafka.common.errors.TimeoutException e) {
                continue; // not there yet
            }
            if (parts == null) {
                continue;
            }
            for (PartitionInfo pi : parts) {
                TopicPartition tp = new TopicPartition(pi.topic(), pi.partition());
                if (now.add(tp)) {
                    all.add(tp);
                    added.add(tp);
                }
            }
        }
        if (!added.isEmpty()) {
            consumer.assign(all);
            consumer.seekToBeginning(added);
        }
    }

    private void poll() {
        if (consumer.assignment().isEmpty()) {
            try {
                Thread.sleep(POLL.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                closed.set(true);
            }
            return;
        }
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(POLL)) {
            if (r.value() == null) {
                continue;
            }
            try {
                if (r.topic().equals(topics.spectra())) {
                    store.spectrum(SpectrumRecord.read(r.value()));
                } else if (r.topic().equals(topics.alerts())) {
                    store.alert(AlertRecord.read(r.value()));
                } else if (r.topic().equals(topics.runs())) {
                    store.descriptor(Records.MAPPER.readValue(r.value(), Records.Descriptor.class));
                }
            } catch (IOException | RecordFormatException e) {
                LOG.debug("live page: skipped an unreadable record of {} at offset {}: {}", r.topic(), r.offset(),
                        e.getMessage());
            }
        }
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            consumer.wakeup();
            if (thread.isAlive()) {
                try {
                    thread.join(5_000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
        consumer.close(org.apache.kafka.clients.consumer.CloseOptions.timeout(Duration.ofSeconds(2)));
    }
}
