package io.grokwatch.analyzer;

import io.grokwatch.records.DeadLetterRecord;
import io.grokwatch.records.SpectrumRecord;
import io.grokwatch.detect.DetectorSuite;
import io.grokwatch.kafka.ClientConfigs;
import io.grokwatch.kafka.TopicAdmin;
import io.grokwatch.kafka.Topics;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.GroupIdNotFoundException;
import org.apache.kafka.common.errors.GroupNotEmptyException;
import org.apache.kafka.common.errors.InterruptException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.CloseOptions;
import org.apache.kafka.streams.KafkaStreams;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;

/**
 * The analyzer's warm-up through Kafka: before the real application consumes anything, a throwaway instance of
 * the analyzer's own topology, under its own application id and over its own topics, analyses a few checkpoints
 * of a synthetic run ({@link WarmUpRun}) sent by a producer configured like the trainer's and read back by a
 * read_committed consumer. So every path a checkpoint takes from the trainer to its spectrum has run before the
 * first real one: the broker appending and serving a ~350 KB zstd batch, the Streams consumer, the processor,
 * the stores' RocksDB puts and changelog sends (the eigenbases are ~1 MB per checkpoint), the exactly-once
 * commits with their offsets, the spectrum's JSON. Without it the first real checkpoints paid for the first use of each
 * (the first commit alone took several times as long as later ones) while the JIT compiled them next to the analysis,
 * and a queue built up that the later checkpoints inherited.
 *
 * <p>Everything it creates is named {@code <application id>-warm-up-<random>}: prefixed ACLs on the application
 * id, which Streams' internal topics, group and transactional ids need anyway, cover it; two analyzers starting
 * at once do not collide; and it cannot be mistaken for a user's topic. It deletes all of it again: its topics,
 * the changelogs, the consumer group, the local state (what it cannot delete, e.g. without the DELETE permission,
 * it names in a warning). Only its transactional id stays in the broker's transaction log until it expires
 * ({@code transactional.id.expiration.ms}, 7 days by default), as a restarted Streams application's old ones do.
 */
final class PipelineWarmUp {
    private static final Logger LOG = LoggerFactory.getLogger(PipelineWarmUp.class);

    /** The synthetic run's id inside the warm-up's own topics. */
    static final String RUN_ID = "warm-up";
    /**
     * Checkpoints sent through: the first transactions are the slow ones (several times slower to commit than those
     * from the third on; docs/benchmarks.md); the analysis itself is warmed up in-process before
     * ({@link AnalyzerService#warmUp(int)}).
     */
    static final int CHECKPOINTS = 3;
    /** Longest any one step (start, a checkpoint's round trip, the clean-up) may take before it gives up. */
    static final Duration STEP_TIMEOUT = Duration.ofSeconds(30);

    /**
     * @param id          prefix of everything the warm-up created (and deleted)
     * @param checkpoints checkpoints analysed
     * @param millis      wall time, clean-up included
     * @param leftovers   what could not be deleted (empty when the clean-up succeeded), for the operator
     */
    record Result(String id, int checkpoints, long millis, List<String> leftovers) {
    }

    private PipelineWarmUp() {
    }

    /** The prefix of a warm-up's topics, group and state: the application id, "-warm-up-" and a random suffix. */
    static String newId(String applicationId) {
        return applicationId + "-warm-up-" + UUID.randomUUID().toString().substring(0, 8);
    }

    static Topics topics(String id) {
        return new Topics(id + ".runs", id + ".checkpoints", id + ".spectra", id + ".alerts", id + ".dead-letter");
    }

    /**
     * Runs the warm-up and cleans up after it, also when it fails.
     *
     * @param meanwhile runs on the calling thread while the throwaway application starts (joins its group, creates
     *                  and restores its changelogs), before the first checkpoint is sent; not run if the warm-up
     *                  fails before that
     *
     * @throws KafkaException        if a topic cannot be created, a client fails or a step times out
     * @throws IllegalStateException if a warm-up checkpoint is dead-lettered instead of analysed
     * @throws InterruptException    if interrupted (the interrupt flag is set again)
     */
    static Result run(AnalyzerService.Config config, DetectorSuite detectors, Runnable meanwhile) {
        long t0 = System.nanoTime();
        removeStaleState(config.stateDir(), config.applicationId());
        String id = newId(config.applicationId());
        Topics topics = topics(id);
        Path stateDir = config.stateDir().resolve(id);
        Properties adminProps = new Properties();
        adminProps.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers());
        adminProps.put(AdminClientConfig.CLIENT_ID_CONFIG, id + "-admin");
        adminProps.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) STEP_TIMEOUT.toMillis());
        int analysed;
        List<String> leftovers;
        try (Admin admin = Admin.create(adminProps)) {
            try {
                TopicAdmin.ensureTopics(admin, TopicAdmin.newTopics(topics, 1,
                        (short) (config.singleBroker() ? 1 : 3), Duration.ofHours(1)));
                analysed = analyse(config, detectors, id, topics, stateDir, meanwhile);
            } finally {
                leftovers = cleanUp(admin, id, stateDir);
            }
        }
        return new Result(id, analysed, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0), leftovers);
    }

    private static int analyse(AnalyzerService.Config config, DetectorSuite detectors, String id, Topics topics,
                               Path stateDir, Runnable meanwhile) {
        WarmUpRun run = new WarmUpRun();
        KafkaStreams streams = new KafkaStreams(AnalyzerTopology.build(topics, AnalyzerTopology.Settings.of(
                        new AnalyzerMetrics.Counting(), config.analysisThreads()).withDetectors(detectors)
                        .withBacklog(config.backlog()).withLimits(config.limits())),
                ClientConfigs.streams(config.bootstrapServers(), id, stateDir, config.singleBroker()));
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(
                ClientConfigs.producer(config.bootstrapServers(), id + "-producer"), new StringSerializer(),
                new ByteArraySerializer());
             KafkaConsumer<String, byte[]> results = new KafkaConsumer<>(resultReader(config, id),
                     new StringDeserializer(), new ByteArrayDeserializer())) {
            streams.start();
            meanwhile.run();
            AnalyzerService.awaitRunning(streams, STEP_TIMEOUT, "the warm-up analyzer " + id);
            send(producer, topics.runs(), run.descriptor(RUN_ID).toBytes());
            results.assign(List.of(new TopicPartition(topics.spectra(), 0),
                    new TopicPartition(topics.deadLetter(), 0)));
            for (int k = 0; k < CHECKPOINTS; k++) {
                // One at a time, as a paced trainer sends them: each is taken up by an idle stream thread,
                // analysed and committed before the next, which is how the first real ones arrive.
                send(producer, topics.checkpoints(), run.checkpoint(k));
                awaitSpectrum(results, topics, k);
            }
            return CHECKPOINTS;
        } finally {
            streams.close(CloseOptions.timeout(STEP_TIMEOUT)
                    .withGroupMembershipOperation(CloseOptions.GroupMembershipOperation.LEAVE_GROUP));
        }
    }

    /** A read_committed consumer without a group (it is assigned its partitions, so there is none to delete). */
    private static Properties resultReader(AnalyzerService.Config config, String id) {
        Properties p = ClientConfigs.consumer(config.bootstrapServers(), id);
        p.remove(ConsumerConfig.GROUP_ID_CONFIG);
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, id + "-reader");
        return p;
    }

    private static void send(KafkaProducer<String, byte[]> producer, String topic, byte[] value) {
        try {
            producer.send(new ProducerRecord<>(topic, RUN_ID, value)).get(STEP_TIMEOUT.toMillis(),
                    TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            throw new InterruptException("interrupted while sending a warm-up record to " + topic, e);
        } catch (ExecutionException e) {
            throw new KafkaException("cannot send a warm-up record to " + topic + ": " + e.getCause().getMessage(),
                    e.getCause());
        } catch (TimeoutException e) {
            throw new KafkaException("no acknowledgement within " + STEP_TIMEOUT.toSeconds()
                    + " s for a warm-up record to " + topic, e);
        }
    }

    private static void awaitSpectrum(KafkaConsumer<String, byte[]> results, Topics topics, int step) {
        long deadline = System.nanoTime() + STEP_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            for (ConsumerRecord<String, byte[]> r : results.poll(Duration.ofMillis(50))) {
                if (r.topic().equals(topics.deadLetter())) {
                    DeadLetterRecord dead = DeadLetterRecord.read(r.value());
                    throw new IllegalStateException("a warm-up record was dead-lettered (" + dead.reason() + "): "
                            + dead.message());
                }
                if (SpectrumRecord.read(r.value()).step() == step) {
                    return;
                }
            }
        }
        throw new KafkaException("no spectrum for warm-up checkpoint " + step + " within "
                + STEP_TIMEOUT.toSeconds() + " s");
    }

    /**
     * Deletes the group and every topic whose name starts with {@code id} (its own and Streams' changelogs), and
     * the local state. Never throws: a failure is returned, for a warning that names what is left.
     */
    static List<String> cleanUp(Admin admin, String id, Path stateDir) {
        List<String> leftovers = new java.util.ArrayList<>();
        boolean interrupted = Thread.interrupted(); // clean up even when interrupted, then restore the flag
        try {
            try {
                deleteGroup(admin, id, leftovers);
            } catch (ExecutionException | TimeoutException e) {
                leftovers.add("consumer group " + id + " (" + rootMessage(e) + ")");
            }
            try {
                Set<String> mine = admin.listTopics().names().get(STEP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
                        .stream().filter(t -> t.startsWith(id)).collect(Collectors.toCollection(java.util.TreeSet::new));
                if (!mine.isEmpty()) {
                    try {
                        admin.deleteTopics(mine).all().get(STEP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
                    } catch (ExecutionException | TimeoutException e) {
                        leftovers.add("topics " + mine + " (" + rootMessage(e) + ")");
                    }
                }
            } catch (ExecutionException | TimeoutException e) {
                leftovers.add("topics " + id + "* (cannot list them: " + rootMessage(e) + ")");
            }
            try {
                io.grokwatch.kafka.Directories.deleteRecursively(stateDir);
            } catch (UncheckedIOException e) {
                leftovers.add("state directory " + stateDir + " (" + e.getCause().getMessage() + ")");
            }
        } catch (InterruptedException e) {
            interrupted = true;
            leftovers.add("(interrupted during the clean-up of " + id + ")");
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
        return leftovers;
    }

    /**
     * Local state of earlier warm-ups of this application in {@code stateDir} (only a killed process leaves
     * any): the state directory belongs to this instance, so nothing in it can be another analyzer's.
     */
    static void removeStaleState(Path stateDir, String applicationId) {
        if (!Files.isDirectory(stateDir)) {
            return;
        }
        String prefix = applicationId + "-warm-up-";
        try (java.util.stream.Stream<Path> children = Files.list(stateDir)) {
            for (Path child : children.filter(c -> c.getFileName().toString().startsWith(prefix)).toList()) {
                io.grokwatch.kafka.Directories.deleteRecursively(child);
                LOG.info("removed the state of an interrupted warm-up: {}", child);
            }
        } catch (IOException | UncheckedIOException e) {
            LOG.warn("cannot remove the state of earlier warm-ups in {}: {}", stateDir, e.toString());
        }
    }

    /**
     * Streams' close has left the group; the coordinator may still be completing that, so it retries briefly. A
     * group that was never created (the warm-up failed before its application started) is left alone: asking to
     * delete it only makes the broker log errors.
     */
    private static void deleteGroup(Admin admin, String group, List<String> leftovers)
            throws InterruptedException, ExecutionException, TimeoutException {
        boolean exists = admin.listGroups().all().get(STEP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS).stream()
                .anyMatch(g -> g.groupId().equals(group));
        for (int attempt = 0; exists; attempt++) {
            try {
                admin.deleteConsumerGroups(List.of(group)).all().get(STEP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
                return;
            } catch (ExecutionException e) {
                if (e.getCause() instanceof GroupIdNotFoundException) {
                    return;
                }
                if (!(e.getCause() instanceof GroupNotEmptyException) || attempt >= 20) {
                    leftovers.add("consumer group " + group + " (" + rootMessage(e) + ")");
                    return;
                }
            }
            Thread.sleep(100);
        }
    }

    private static String rootMessage(Exception e) {
        Throwable t = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
        return t.getClass().getSimpleName() + ": " + t.getMessage();
    }

    static void logResult(Result r) {
        if (r.leftovers().isEmpty()) {
            LOG.info("warmed up through Kafka in {} ms ({} checkpoints analysed by a throwaway {}, since deleted)",
                    r.millis(), r.checkpoints(), r.id());
        } else {
            LOG.warn("warmed up through Kafka in {} ms ({} checkpoints analysed by a throwaway {}), but could not "
                    + "delete: {}; they are safe to delete by hand", r.millis(), r.checkpoints(), r.id(),
                    String.join("; ", r.leftovers()));
        }
    }
}
