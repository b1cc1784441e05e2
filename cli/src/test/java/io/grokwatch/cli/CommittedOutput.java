package io.grokwatch.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.grokwatch.kafka.ClientConfigs;
import io.grokwatch.kafka.Topics;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The analyzer's committed output as a downstream consumer sees it: a read_committed consumer of the spectra and
 * alerts topics, counting the records on them (each offset once) per run and step for spectra and per run, type
 * and step for alerts, with when each spectrum arrived here. Survives a broker restart on the same port (the
 * consumer reconnects).
 */
final class CommittedOutput implements AutoCloseable {
    /** One spectrum, when this consumer got it ({@link System#nanoTime()}). */
    record Arrival(String runId, long step, long nanos) {
    }

    private final KafkaConsumer<String, byte[]> consumer;
    private final Topics topics = Topics.defaults();
    private final Map<String, Map<Long, Integer>> spectra = new ConcurrentHashMap<>();
    private final Map<String, Integer> alerts = new ConcurrentHashMap<>();
    private final List<Arrival> arrivals = new CopyOnWriteArrayList<>();
    private final Set<String> read = new java.util.HashSet<>();
    private final Thread thread;
    private volatile boolean closed;

    CommittedOutput(String bootstrap) {
        consumer = new KafkaConsumer<>(ClientConfigs.consumer(bootstrap, "chaos-count-" + System.nanoTime()),
                new StringDeserializer(), new ByteArrayDeserializer());
        // Assigned, not subscribed: a group rebalance (the broker's restart) would move the position back to the
        // last auto-committed offset and count records again that are on the topic once.
        List<org.apache.kafka.common.TopicPartition> partitions = new java.util.ArrayList<>();
        for (String topic : List.of(topics.spectra(), topics.alerts())) {
            consumer.partitionsFor(topic, Duration.ofSeconds(30)).forEach(p ->
                    partitions.add(new org.apache.kafka.common.TopicPartition(topic, p.partition())));
        }
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
        thread = new Thread(this::consume, "committed-output");
        thread.setDaemon(true);
        thread.start();
    }

    private void consume() {
        try {
            while (!closed) {
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(100))) {
                    if (!read.add(r.topic() + "/" + r.partition() + "/" + r.offset())) {
                        continue; // the same record read again is not a second record on the topic
                    }
                    JsonNode json = json(r.value());
                    long step = json.get("step").asLong();
                    if (r.topic().equals(topics.spectra())) {
                        spectra.computeIfAbsent(r.key(), k -> new ConcurrentHashMap<>()).merge(step, 1, Integer::sum);
                        arrivals.add(new Arrival(r.key(), step, System.nanoTime()));
                    } else {
                        alerts.merge(alertId(r.key(), json.get("type").asText(), step,
                                "resolved".equals(json.path("status").asText())), 1, Integer::sum);
                    }
                }
            }
        } catch (WakeupException e) {
            // closed
        } finally {
            consumer.close();
        }
    }

    private static JsonNode json(byte[] value) {
        try {
            return JsonFiles.MAPPER.readTree(value);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String spectrumId(String runId, long step) {
        return runId + "/" + step;
    }

    /** An alert's identity: its run, type and step, and whether it says the alert resolved (its run ended). */
    static String alertId(String runId, String type, long step, boolean resolved) {
        return runId + "/" + type + "/" + step + (resolved ? "/resolved" : "");
    }

    /** Spectra counted so far, repeats included. */
    int spectra() {
        return arrivals.size();
    }

    /** Of the expected steps per run, how many have no spectrum yet. */
    int lost(Map<String, Set<Long>> expected) {
        int lost = 0;
        for (Map.Entry<String, Set<Long>> run : expected.entrySet()) {
            Map<Long, Integer> seen = spectra.getOrDefault(run.getKey(), Map.of());
            lost += (int) run.getValue().stream().filter(step -> !seen.containsKey(step)).count();
        }
        return lost;
    }

    /** Spectra beyond the first of their run and step. */
    int duplicatedSpectra() {
        return spectra.values().stream().flatMap(m -> m.values().stream()).mapToInt(n -> n - 1).sum();
    }

    /** Alerts counted so far, repeats included. */
    int alerts() {
        return alerts.values().stream().mapToInt(Integer::intValue).sum();
    }

    /** Alerts beyond the first of their run, type and step. */
    int duplicatedAlerts() {
        return alerts.values().stream().mapToInt(n -> n - 1).sum();
    }

    /** Every alert, once, as run/type/step. */
    Set<String> alertIds() {
        return Set.copyOf(alerts.keySet());
    }

    /** Steps with a spectrum that were not expected (none should be). */
    int unexpected(Map<String, Set<Long>> expected) {
        int n = 0;
        for (Map.Entry<String, Map<Long, Integer>> run : spectra.entrySet()) {
            Set<Long> wanted = expected.getOrDefault(run.getKey(), Set.of());
            n += (int) run.getValue().keySet().stream().filter(s -> !wanted.contains(s)).count();
        }
        return n;
    }

    /** When the first spectrum after {@code nanos} arrived. */
    OptionalLong firstArrivalAfter(long nanos) {
        return arrivals.stream().mapToLong(Arrival::nanos).filter(t -> t > nanos).min();
    }

    List<Arrival> arrivals() {
        return List.copyOf(arrivals);
    }

    /**
     * The longest time from a checkpoint's publication ({@code publishedNanos}, keyed by {@link #spectrumId}) to its
     * first spectrum here, in seconds.
     */
    double maxLagSeconds(Map<String, Long> publishedNanos) {
        Map<String, Long> first = new java.util.HashMap<>();
        for (Arrival a : arrivals) {
            first.putIfAbsent(spectrumId(a.runId(), a.step()), a.nanos());
        }
        long max = 0;
        for (Map.Entry<String, Long> p : publishedNanos.entrySet()) {
            Long at = first.get(p.getKey());
            if (at != null) {
                max = Math.max(max, at - p.getValue());
            }
        }
        return max / 1e9;
    }

    /** Seconds from {@code nanos} until every run of {@code runIds} has had a spectrum after it; -1 if one has not. */
    double everyRunAnalysedAfter(long nanos, java.util.Collection<String> runIds) {
        long latest = nanos;
        for (String id : runIds) {
            OptionalLong first = arrivals.stream().filter(a -> a.runId().equals(id)).mapToLong(Arrival::nanos)
                    .filter(t -> t > nanos).min();
            if (first.isEmpty()) {
                return -1;
            }
            latest = Math.max(latest, first.getAsLong());
        }
        return (latest - nanos) / 1e9;
    }

    /**
     * Waits until every expected step has its spectrum, or {@code timeout} passes without a new spectrum (the analyzer
     * is stuck).
     *
     * @return whether all arrived
     */
    boolean awaitAll(Map<String, Set<Long>> expected, Duration stuck) throws InterruptedException {
        int before = -1;
        long lastProgress = System.nanoTime();
        while (lost(expected) > 0) {
            int now = spectra();
            if (now != before) {
                before = now;
                lastProgress = System.nanoTime();
            } else if (System.nanoTime() - lastProgress > stuck.toNanos()) {
                return false;
            }
            Thread.sleep(100);
        }
        return true;
    }

    /** Waits {@code quiet} more, so that a late repeat would still be counted. */
    void settle(Duration quiet) throws InterruptedException {
        Thread.sleep(quiet.toMillis());
    }

    @Override
    public void close() {
        closed = true;
        consumer.wakeup();
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
