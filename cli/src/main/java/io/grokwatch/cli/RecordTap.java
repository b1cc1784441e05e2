package io.grokwatch.cli;

import io.grokwatch.kafka.ClientConfigs;
import io.grokwatch.kafka.Topics;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Properties;

/**
 * {@code analyze --out}: every spectrum, alert and dead letter the analyzers commit from now on, written as JSON
 * lines with their {@code "kind"} (the format of {@code demo --out}, which {@code grokwatch report} reads).
 * Owns one consumer thread.
 */
final class RecordTap implements AutoCloseable {
    private final KafkaConsumer<String, byte[]> consumer;
    private final DemoCommand.RecordLog log;
    private final Topics topics;
    private final Thread thread;
    private volatile boolean stopped;

    RecordTap(String bootstrap, Topics topics, Path file) throws java.io.IOException {
        this.topics = topics;
        this.log = DemoCommand.RecordLog.open(file);
        Properties p = ClientConfigs.consumer(bootstrap, "grokwatch-analyze-out-" + System.nanoTime());
        p.put("auto.offset.reset", "latest");
        this.consumer = new KafkaConsumer<>(p, new StringDeserializer(), new ByteArrayDeserializer());
        consumer.subscribe(List.of(topics.spectra(), topics.alerts(), topics.deadLetter()));
        this.thread = new Thread(this::run, "analyze-out");
        thread.setDaemon(true);
        thread.start();
    }

    private void run() {
        try {
            while (!stopped) {
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                    String kind = r.topic().equals(topics.spectra()) ? "spectrum"
                            : r.topic().equals(topics.alerts()) ? "alert" : "deadLetter";
                    try {
                        log.write(kind, JsonFiles.MAPPER.readTree(r.value()));
                    } catch (java.io.IOException e) {
                        System.err.println("analyze --out: cannot write a record: " + e.getMessage());
                    }
                }
                log.flush();
            }
        } catch (WakeupException e) {
            // closing
        } catch (java.io.IOException e) {
            System.err.println("analyze --out: " + e.getMessage());
        } finally {
            consumer.close();
        }
    }

    @Override
    public void close() throws java.io.IOException {
        stopped = true;
        consumer.wakeup();
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        log.close();
    }
}
