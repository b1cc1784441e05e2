package io.grokwatch.cli;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code grokwatch broker} as a real process: it prints where it listens, a producer and a consumer in this JVM use
 * it, SIGTERM stops it, and a second start on the same data directory still holds the record.
 */
class BrokerCommandIT {
    private static final Pattern LINE = Pattern.compile("broker (127\\.0\\.0\\.1:(\\d+))");

    @TempDir
    Path dir;

    /** A started broker process and the address it printed. */
    private record Broker(Process process, String bootstrap, List<String> output) {
    }

    @Test
    void servesProducersAndConsumersAndKeepsItsDataAcrossRestarts() throws Exception {
        Path data = dir.resolve("kafka");
        Broker first = start(data);
        try {
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, first.bootstrap()))) {
                admin.createTopics(List.of(new NewTopic("t", 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
            }
            try (KafkaProducer<String, String> producer = new KafkaProducer<>(Map.of(
                    ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, first.bootstrap()), new StringSerializer(),
                    new StringSerializer())) {
                producer.send(new ProducerRecord<>("t", "run-1", "hello")).get(30, TimeUnit.SECONDS);
            }
            assertEquals(List.of("run-1=hello"), consumeAll(first.bootstrap()));
        } finally {
            stop(first);
        }
        assertEquals(143, first.process().exitValue(), "SIGTERM ends it through its shutdown hook: "
                + first.output());

        Broker second = start(data);
        try {
            assertEquals(List.of("run-1=hello"), consumeAll(second.bootstrap()), "the record survived the restart");
        } finally {
            stop(second);
        }
    }

    private static Broker start(Path data) throws Exception {
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx512m",
                "-cp", System.getProperty("java.class.path"), Main.class.getName(), "broker", "--port", "0",
                "--data-dir", data.toString()).redirectErrorStream(true).start();
        List<String> output = new ArrayList<>();
        BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        String line;
        while ((line = in.readLine()) != null) {
            output.add(line);
            Matcher m = LINE.matcher(line);
            if (m.matches()) {
                // Keep draining its output, so a chatty broker never blocks on a full pipe.
                Thread drain = new Thread(() -> {
                    try {
                        in.lines().forEach(l -> {
                            synchronized (output) {
                                output.add(l);
                            }
                        });
                    } catch (java.io.UncheckedIOException e) {
                        // The process was stopped and its stream closed: nothing more to read.
                    }
                }, "broker-output");
                drain.setDaemon(true);
                drain.start();
                assertTrue(Integer.parseInt(m.group(2)) > 0, line);
                return new Broker(p, m.group(1), output);
            }
            if (System.nanoTime() > deadline) {
                break;
            }
        }
        p.destroyForcibly();
        throw new AssertionError("no 'broker 127.0.0.1:PORT' line: " + output);
    }

    private static void stop(Broker b) throws InterruptedException {
        b.process().destroy();
        if (!b.process().waitFor(60, TimeUnit.SECONDS)) {
            b.process().destroyForcibly().waitFor();
            throw new AssertionError("the broker did not stop on SIGTERM within 60 s");
        }
    }

    private static List<String> consumeAll(String bootstrap) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.GROUP_ID_CONFIG, "broker-it-" + System.nanoTime());
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        List<String> seen = new ArrayList<>();
        try (KafkaConsumer<String, String> c = new KafkaConsumer<>(p, new StringDeserializer(),
                new StringDeserializer())) {
            c.subscribe(List.of("t"));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (seen.isEmpty() && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(500))) {
                    seen.add(r.key() + "=" + r.value());
                }
            }
        }
        return seen;
    }
}
