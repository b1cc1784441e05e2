package io.grokwatch.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.grokwatch.analyzer.AnalyzerMetrics;
import io.grokwatch.analyzer.AnalyzerService;
import io.grokwatch.analyzer.Replayer;
import io.grokwatch.kafka.ClientConfigs;
import io.grokwatch.kafka.embedded.EmbeddedKafka;
import io.grokwatch.kafka.TopicAdmin;
import io.grokwatch.kafka.Topics;
import io.grokwatch.run.CheckpointMetadata;
import io.grokwatch.trainer.ModularAdditionTask;
import io.grokwatch.trainer.RunDescriptors;
import io.grokwatch.trainer.RunPublisher;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The pipeline against a real broker on loopback: the trainer publishes a run, the analyzer is stopped
 * mid-run and started again on an empty state directory (state comes back from Kafka), and the output has
 * every step exactly once with the values of an uninterrupted analysis, which a replay reproduces.
 */
class PipelineIT {
    @TempDir
    Path dir;

    @Test
    void restartMidRunLosesAndRepeatsNothingAndReplayReproducesTheResults() throws Exception {
        Topics topics = Topics.defaults();
        String runId = "it-run";
        ModularAdditionTask.Config config = new ModularAdditionTask.Config(11, 64, 0.7, 0.05, 0.01, 60, 3);
        ModularAdditionTask task = ModularAdditionTask.create(config);
        int every = 5;
        try (EmbeddedKafka kafka = EmbeddedKafka.start(dir.resolve("kafka"))) {
            String bootstrap = kafka.bootstrapServers();
            TopicAdmin.ensureTopics(bootstrap, topics, 2, (short) 1);
            AnalyzerService.Config analyzerConfig = new AnalyzerService.Config(bootstrap, "it-analyzer",
                    dir.resolve("state-1"), topics, 2, true, 2);
            List<Long> published = new ArrayList<>();
            try (RunPublisher publisher = new RunPublisher(bootstrap, topics, runId)) {
                publisher.publishDescriptor(RunDescriptors.modularAddition(runId, config, every, 60));
                AnalyzerService first = AnalyzerService.start(analyzerConfig, new AnalyzerMetrics.Counting());
                // First half of the run while the analyzer is up.
                task.run(every, (epoch, step, params, m) -> {
                    publisher.publishCheckpoint(params, CheckpointMetadata.of(step, epoch).withMetrics(m.trainLoss(),
                            m.testLoss(), m.trainAccuracy(), m.testAccuracy()));
                    published.add(step);
                    return epoch < 30;
                });
                awaitSpectra(bootstrap, topics, runId, published.size());
                first.close();
                // The rest while it is down, then a new instance on an empty state directory.
                task.run(every, (epoch, step, params, m) -> {
                    publisher.publishCheckpoint(params, CheckpointMetadata.of(step, epoch).withMetrics(m.trainLoss(),
                            m.testLoss(), m.trainAccuracy(), m.testAccuracy()));
                    published.add(step);
                    return true;
                });
                // A duplicate of the last checkpoint: must not produce a second result.
                publisher.publishCheckpoint(task.parameters(), CheckpointMetadata.of(published.get(published.size() - 1),
                        60));
            }
            AnalyzerService.Config restarted = new AnalyzerService.Config(bootstrap, "it-analyzer",
                    dir.resolve("state-2"), topics, 2, true, 2);
            Map<Long, JsonNode> live;
            try (AnalyzerService second = AnalyzerService.start(restarted, new AnalyzerMetrics.Counting())) {
                assertEquals(org.apache.kafka.streams.KafkaStreams.State.RUNNING, second.state());
                live = awaitSpectra(bootstrap, topics, runId, published.size());
                Thread.sleep(1000);
                live = awaitSpectra(bootstrap, topics, runId, published.size());
            }
            assertEquals(published, new ArrayList<>(live.keySet()), "every step exactly once, in order");

            Map<Long, JsonNode> replayed = new LinkedHashMap<>();
            int n = new Replayer(bootstrap, topics).replay(runId, 0, s -> replayed.put(s.step(),
                    io.grokwatch.records.WireJson.MAPPER.valueToTree(s)));
            assertEquals(published.size(), n);
            for (long step : published) {
                // Identical to 1e-9 relative (1e-12 absolute near zero); timings and the residual estimate differ.
                io.grokwatch.testing.JsonCompare.assertClose(live.get(step), replayed.get(step), 1e-9, 1e-12,
                        java.util.Set.of("timings", "residual", "replay", "pace"));
            }
            // The pace went on across the restart (it is kept with the run's state), and replay computes the same
            // intervals from the same timestamps; only the analyzer's own times differ.
            for (int i = 0; i < published.size(); i++) {
                JsonNode a = live.get(published.get(i)).path("pace");
                JsonNode b = replayed.get(published.get(i)).path("pace");
                if (i == 0) {
                    assertTrue(a.isMissingNode() && b.isMissingNode(), a + " / " + b);
                    continue;
                }
                assertEquals(i + 1, a.get("checkpoints").asInt(), a.toString());
                assertEquals(i + 1, b.get("checkpoints").asInt(), b.toString());
                assertEquals(a.get("checkpointIntervalSeconds").asDouble(), b.get("checkpointIntervalSeconds")
                        .asDouble(), 1e-12);
                assertEquals(a.get("epochsPerCheckpoint").asDouble(), b.get("epochsPerCheckpoint").asDouble(), 1e-12);
            }
        }
    }

    /**
     * {@code --backlog latest} on a real broker: a run checkpointed every epoch is published while the analyzer is
     * down, then the rest of it live at full training speed. Either way the analyzer ends on the run's last
     * checkpoint, every checkpoint is accounted for exactly once (analysed, or counted as superseded on the next
     * spectrum), and the spectra that were produced are in step order.
     */
    @Test
    void latestBacklogAnalysesTheNewestCheckpointAndAccountsForEveryOther() throws Exception {
        Topics topics = Topics.defaults();
        String runId = "it-latest";
        ModularAdditionTask.Config config = new ModularAdditionTask.Config(29, 256, 0.7, 0.05, 0.01, 120, 5);
        ModularAdditionTask task = ModularAdditionTask.create(config);
        try (EmbeddedKafka kafka = EmbeddedKafka.start(dir.resolve("kafka"))) {
            String bootstrap = kafka.bootstrapServers();
            TopicAdmin.ensureTopics(bootstrap, topics, 1, (short) 1);
            AnalyzerService.Config latest = new AnalyzerService.Config(bootstrap, "it-latest", dir.resolve("state"),
                    topics, 1, true, 2, io.grokwatch.analyzer.Backlog.LATEST);
            List<Long> published = new ArrayList<>();
            AnalyzerMetrics.Counting metrics = new AnalyzerMetrics.Counting();
            try (RunPublisher publisher = new RunPublisher(bootstrap, topics, runId)) {
                publisher.publishDescriptor(RunDescriptors.modularAddition(runId, config, 1, 60));
                io.grokwatch.trainer.CheckpointListener publish = (epoch, step, params, m) -> {
                    publisher.publishCheckpoint(params, CheckpointMetadata.of(step, epoch).withMetrics(m.trainLoss(),
                            m.testLoss(), m.trainAccuracy(), m.testAccuracy()));
                    published.add(step);
                    return epoch < 60;
                };
                task.run(1, publish);
                try (AnalyzerService analyzer = AnalyzerService.start(latest, metrics)) {
                    assertEquals(org.apache.kafka.streams.KafkaStreams.State.RUNNING, analyzer.state());
                    List<JsonNode> caughtUp = awaitStep(bootstrap, topics, runId, published.get(published.size() - 1));
                    assertAccountedFor(published, caughtUp);
                    assertTrue(caughtUp.size() < published.size(), "a run published while the analyzer was down is "
                            + "caught up by its newest checkpoints, not one by one: " + caughtUp.size() + " spectra");
                    task.run(1, (epoch, step, params, m) -> {
                        publish.onCheckpoint(epoch, step, params, m);
                        return true;
                    });
                    List<JsonNode> all = awaitStep(bootstrap, topics, runId, published.get(published.size() - 1));
                    assertAccountedFor(published, all);
                    assertEquals(all.size(), metrics.analysedCount());
                    assertEquals(published.size() - all.size(), metrics.supersededCount());
                    // The pace counts the superseded checkpoints too: one per epoch, whatever was analysed.
                    assertTrue(all.get(0).path("pace").isMissingNode(), all.get(0).toString());
                    for (int i = 1; i < all.size(); i++) {
                        JsonNode pace = all.get(i).get("pace");
                        assertEquals(1.0, pace.get("epochsPerCheckpoint").asDouble(), 1e-12, pace.toString());
                        assertEquals(i + 1, pace.get("checkpoints").asInt());
                        assertEquals(pace.get("serviceSeconds").asDouble() / pace.get("checkpointIntervalSeconds")
                                .asDouble(), pace.get("load").asDouble(), 1e-12);
                    }
                    double[] lags = all.stream().mapToDouble(s -> s.get("timings").get("producedToResultSeconds")
                            .asDouble()).sorted().toArray();
                    System.out.printf("backlog=latest: %d checkpoints, %d analysed, lag median %.0f ms, max %.0f ms%n",
                            published.size(), all.size(), lags[lags.length / 2] * 1e3, lags[lags.length - 1] * 1e3);
                }
            }
        }
    }

    private static void assertAccountedFor(List<Long> published, List<JsonNode> spectra) {
        List<Long> steps = spectra.stream().map(s -> s.get("step").asLong()).toList();
        assertEquals(published.get(published.size() - 1), steps.get(steps.size() - 1), "ends on the newest");
        assertTrue(published.containsAll(steps), "only published steps: " + steps);
        // Each spectrum stands for itself and the checkpoints it superseded since the previous spectrum.
        int index = -1;
        for (JsonNode s : spectra) {
            int at = published.indexOf(s.get("step").asLong());
            assertEquals(at - index - 1, s.get("supersededCheckpoints").asInt(), "superseded before step "
                    + s.get("step"));
            index = at;
        }
    }

    /** Reads the run's spectra (committed records only) until one for {@code lastStep} arrives; in order, no repeats. */
    private static List<JsonNode> awaitStep(String bootstrap, Topics topics, String runId, long lastStep)
            throws Exception {
        Properties p = ClientConfigs.consumer(bootstrap, "it-reader-" + System.nanoTime());
        p.put("auto.offset.reset", "earliest");
        List<JsonNode> out = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> c = new KafkaConsumer<>(p, new StringDeserializer(),
                new ByteArrayDeserializer())) {
            c.subscribe(List.of(topics.spectra()));
            long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
            while ((out.isEmpty() || out.get(out.size() - 1).get("step").asLong() < lastStep)
                    && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, byte[]> r : c.poll(Duration.ofMillis(200))) {
                    if (runId.equals(r.key())) {
                        out.add(JsonFiles.MAPPER.readTree(r.value()));
                    }
                }
            }
        }
        List<Long> steps = out.stream().map(s -> s.get("step").asLong()).toList();
        assertTrue(!steps.isEmpty() && steps.get(steps.size() - 1) == lastStep, "spectra up to step " + lastStep
                + ": " + steps);
        for (int i = 1; i < steps.size(); i++) {
            assertTrue(steps.get(i) > steps.get(i - 1), "strictly increasing steps: " + steps);
        }
        return out;
    }

    @Test
    void externalCheckpointPublishedFromAFileIsAnalysedLikeNumpyDoes() throws Exception {
        Path model = dir.resolve("model.json");
        Path ckpt = dir.resolve("step-100.safetensors");
        for (var p : List.of(Map.entry("ma_p29_seed0_epoch100.model.json", model),
                Map.entry("ma_p29_seed0_epoch100.safetensors", ckpt))) {
            try (var in = getClass().getResourceAsStream("/reference/" + p.getKey())) {
                java.nio.file.Files.copy(in, p.getValue());
            }
        }
        JsonNode expected;
        try (var in = getClass().getResourceAsStream("/reference/ma_p29_seed0_epoch100.expected.json")) {
            expected = JsonFiles.MAPPER.readTree(in);
        }
        Topics topics = Topics.defaults();
        try (EmbeddedKafka kafka = EmbeddedKafka.start(dir.resolve("kafka"));
             AnalyzerService analyzer = AnalyzerService.start(new AnalyzerService.Config(kafka.bootstrapServers(),
                     "it-external", dir.resolve("state"), topics, 1, true, 2), new AnalyzerMetrics.Counting())) {
            assertEquals(org.apache.kafka.streams.KafkaStreams.State.RUNNING, analyzer.state());
            int code = Main.commandLine().execute("publish", "--run-id", "torch-run", "--model", model.toString(),
                    "--probe", "modular-addition:p=29", "--top-k", "50", "--bootstrap-servers",
                    kafka.bootstrapServers(), ckpt.toString());
            assertEquals(0, code);
            JsonNode spectrum = awaitSpectra(kafka.bootstrapServers(), topics, "torch-run", 1).get(100L);
            for (int i = 0; i < 50; i++) {
                double e = expected.get("all").get("eigenvalues").get(i).asDouble();
                // float64 both sides: the numpy reference's eigh and the streamed analysis agree to 1e-6 relative.
                assertEquals(e, spectrum.get("eigenvalues").get(i).asDouble(), 1e-6 * e, "eigenvalue " + i);
            }
            assertEquals(expected.get("all").get("secondCliff").get("sum").asDouble(),
                    spectrum.get("overlaps").get("secondCliff").get("sum").asDouble(), 1e-6);
        }
    }

    @Test
    void aGrokkingRunRaisesTheOnsetAlertBeforeTheGeneralizationAlertOnTheAlertsTopic() throws Exception {
        Topics topics = Topics.defaults();
        ModularAdditionTask.Config config = new ModularAdditionTask.Config(29, 512, 0.7, 0.05, 0.01, 110, 0);
        ModularAdditionTask task = ModularAdditionTask.create(config);
        try (EmbeddedKafka kafka = EmbeddedKafka.start(dir.resolve("kafka"));
             AnalyzerService analyzer = AnalyzerService.start(new AnalyzerService.Config(kafka.bootstrapServers(),
                     "it-alerts", dir.resolve("state"), topics, 1, true, 2), new AnalyzerMetrics.Counting());
             RunPublisher publisher = new RunPublisher(kafka.bootstrapServers(), topics, "grok")) {
            assertEquals(org.apache.kafka.streams.KafkaStreams.State.RUNNING, analyzer.state());
            publisher.publishDescriptor(RunDescriptors.modularAddition("grok", config, 10, 120));
            task.run(10, (epoch, step, params, m) -> {
                publisher.publishCheckpoint(params, CheckpointMetadata.of(step, epoch).withMetrics(m.trainLoss(),
                        m.testLoss(), m.trainAccuracy(), m.testAccuracy()));
                return true;
            });
            awaitSpectra(kafka.bootstrapServers(), topics, "grok", 12);
            Properties p = ClientConfigs.consumer(kafka.bootstrapServers(), "it-alert-reader");
            p.put("auto.offset.reset", "earliest");
            List<JsonNode> alerts = new ArrayList<>();
            try (KafkaConsumer<String, byte[]> c = new KafkaConsumer<>(p, new StringDeserializer(),
                    new ByteArrayDeserializer())) {
                c.subscribe(List.of(topics.alerts()));
                long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
                while (alerts.size() < 2 && System.nanoTime() < deadline) {
                    for (ConsumerRecord<String, byte[]> r : c.poll(Duration.ofMillis(200))) {
                        alerts.add(JsonFiles.MAPPER.readTree(r.value()));
                    }
                }
            }
            List<String> types = alerts.stream().map(a -> a.get("type").asText()).toList();
            assertTrue(types.indexOf("grokking-onset") >= 0 && types.indexOf("generalization") > types.indexOf(
                    "grokking-onset"), "alerts " + types);
            JsonNode onset = alerts.get(types.indexOf("grokking-onset"));
            JsonNode generalization = alerts.get(types.indexOf("generalization"));
            assertTrue(onset.get("epoch").asLong() < generalization.get("epoch").asLong(),
                    "the spectrum leads: onset " + onset.get("epoch") + ", generalization " + generalization.get("epoch"));
            assertEquals("grok", onset.get("runId").asText());
        }
    }

    /** Reads the spectra topic (committed records only) until {@code expected} steps of the run are there. */
    private static Map<Long, JsonNode> awaitSpectra(String bootstrap, Topics topics, String runId, int expected)
            throws Exception {
        Properties p = ClientConfigs.consumer(bootstrap, "it-reader-" + System.nanoTime());
        p.put("auto.offset.reset", "earliest");
        Map<Long, JsonNode> bySteps = new LinkedHashMap<>();
        List<Long> all = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> c = new KafkaConsumer<>(p, new StringDeserializer(),
                new ByteArrayDeserializer())) {
            c.subscribe(List.of(topics.spectra()));
            long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
            while (bySteps.size() < expected && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, byte[]> r : c.poll(Duration.ofMillis(200))) {
                    if (runId.equals(r.key())) {
                        JsonNode n = JsonFiles.MAPPER.readTree(r.value());
                        all.add(n.get("step").asLong());
                        bySteps.put(n.get("step").asLong(), n);
                    }
                }
            }
        }
        assertEquals(expected, bySteps.size(), "spectra received: " + all);
        assertEquals(all.size(), bySteps.size(), "no step twice: " + all);
        assertTrue(all.stream().sorted().toList().equals(all), "steps in order: " + all);
        return bySteps;
    }
}
