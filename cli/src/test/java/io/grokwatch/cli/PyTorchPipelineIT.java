package io.grokwatch.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.grokwatch.analyzer.PrometheusAnalyzerMetrics;
import io.micrometer.core.instrument.Clock;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.grokwatch.analyzer.AnalyzerService;
import io.grokwatch.kafka.ClientConfigs;
import io.grokwatch.kafka.Topics;
import io.grokwatch.kafka.embedded.EmbeddedKafka;
import io.grokwatch.safetensors.Safetensors;
import io.grokwatch.safetensors.Tensor;
import io.grokwatch.safetensors.TensorFile;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A real PyTorch run through the whole pipeline: the example transformer script (examples/pytorch) trains a
 * small 1-layer transformer on (a + b) mod 7 with Debian's PyTorch, exporting ONNX once and writing a
 * safetensors checkpoint every 10 epochs; {@code grokwatch publish --watch} follows the directory while it trains
 * and streams them to a real broker, and the analyzer turns each into spectra per parameter group, with the
 * Fourier-family overlaps of the token grid, and into the Prometheus series the dashboards read. A checkpoint
 * missing a parameter is dead-lettered as a model mismatch and the next good one is still analysed.
 */
class PyTorchPipelineIT {
    @TempDir
    Path dir;

    @Test
    void aPyTorchTransformerRunIsAnalysedCheckpointByCheckpoint() throws Exception {
        Path run = dir.resolve("run");
        Files.createDirectories(run);
        Topics topics = Topics.defaults();
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        try (EmbeddedKafka kafka = EmbeddedKafka.start(dir.resolve("kafka"));
             AnalyzerService analyzer = AnalyzerService.start(new AnalyzerService.Config(kafka.bootstrapServers(),
                     "it-torch", dir.resolve("state"), topics, 1, true, 2),
                     new PrometheusAnalyzerMetrics(registry, Duration.ofMinutes(30), Clock.SYSTEM))) {
            assertEquals(org.apache.kafka.streams.KafkaStreams.State.RUNNING, analyzer.state());
            // The user's side: publish --watch follows the directory while the PyTorch script trains into it.
            Thread watcher = new Thread(() -> Main.commandLine().execute("publish", "--run-id", "torch-it", "--model",
                    run.resolve("model.onnx").toString(), "--probe", "modular-addition:p=7,tokens", "--top-k", "40",
                    "--bootstrap-servers", kafka.bootstrapServers(), "--watch", run.toString(), "--poll-ms", "200"),
                    "publish-watch");
            Path script = Path.of("..", "examples", "pytorch", "transformer_modadd.py").toAbsolutePath().normalize();
            Process train = new ProcessBuilder(OnnxPython.python(), script.toString(), "--p", "7", "--d-model", "16",
                    "--heads", "2", "--d-mlp", "32", "--epochs", "30", "--checkpoint-every", "10", "--threads", "1",
                    "--train-fraction", "0.5", "--seed", "3", "--out", run.toString(), "--keep-open")
                    .redirectErrorStream(true).start();
            // The model is exported before the first epoch; the watcher needs it to describe the run.
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
            while (!Files.exists(run.resolve("model.onnx")) && train.isAlive() && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            watcher.start();
            String log = new String(train.getInputStream().readAllBytes());
            assertTrue(train.waitFor(5, TimeUnit.MINUTES), "training timed out");
            assertEquals(0, train.exitValue(), "the PyTorch run failed:\n" + log);
            List<Path> checkpoints;
            try (Stream<Path> files = Files.list(run)) {
                checkpoints = files.filter(f -> f.getFileName().toString().matches("step-\\d+\\.safetensors"))
                        .sorted().toList();
            }
            assertTrue(checkpoints.size() >= 3, "checkpoints written: " + checkpoints);
            // Two more checkpoints into the watched directory: one broken (a parameter left out, so the model
            // does not fit it), then a good one that must still be analysed.
            TensorFile last = Safetensors.read(checkpoints.get(checkpoints.size() - 1));
            TensorFile.Builder broken = TensorFile.builder().metadata("step", "1000").metadata("epoch", "1000");
            for (Tensor t : last.tensors()) {
                if (!t.name().equals("unembed.weight")) {
                    broken.add(t);
                }
            }
            Files.write(run.resolve("step-1000.safetensors"), Safetensors.write(broken.build()));
            TensorFile.Builder fixed = TensorFile.builder().metadata("step", "1010").metadata("epoch", "1010");
            last.tensors().forEach(fixed::add);
            Files.write(run.resolve("step-1010.safetensors"), Safetensors.write(fixed.build()));

            List<JsonNode> spectra = read(kafka.bootstrapServers(), topics.spectra(), "torch-it", checkpoints.size() + 1);
            // The trainer's last word (what CheckpointWriter.finish writes): the watcher publishes the run's end and
            // returns by itself, and the analyzer marks the run ended.
            Files.writeString(run.resolve(PublishCommand.FINISHED), "completed\n");
            watcher.join(30_000);
            assertFalse(watcher.isAlive(), "publish --watch returns once the trainer wrote " + PublishCommand.FINISHED);
            assertEquals(checkpoints.size() + 1, spectra.size(), "one spectrum per good checkpoint");
            assertEquals(1010, spectra.get(spectra.size() - 1).get("step").asLong());
            for (JsonNode s : spectra) {
                assertEquals("exact", s.path("computed").path("method").asText(), s.toString());
                assertEquals(49, s.path("computed").path("probes").asInt());
                assertEquals(40, s.get("eigenvalues").size());
                assertTrue(s.get("eigenvalues").get(0).asDouble() > 0);
                for (String group : List.of("embed", "pos", "attn", "attn.out_proj", "mlp.0", "mlp.2", "unembed")) {
                    assertTrue(s.path("layers").has(group), "group " + group + " in " + s.path("layers").fieldNames());
                }
                double sum = s.path("overlaps").path("secondCliff").path("sum").asDouble(-1);
                assertTrue(sum >= 0 && sum <= 1 + 1e-9, "second-cliff overlap with the sum family: " + s.path("overlaps"));
                if (s.get("step").asLong() < 1000) {
                    assertTrue(s.has("trainAccuracy") && s.has("testAccuracy"),
                            "the script's metadata passes through: " + s.fieldNames());
                }
            }
            List<JsonNode> dead = read(kafka.bootstrapServers(), topics.deadLetter(), "torch-it", 1);
            assertEquals("model-mismatch", dead.get(0).get("reason").asText());
            assertTrue(dead.get(0).get("message").asText().contains("unembed.weight"), dead.get(0).toString());

            // What the dashboards read for this run, in the analyzer's Prometheus exposition.
            String scrape = registry.scrape();
            for (String metric : List.of("grokwatch_epoch", "grokwatch_eigenvalue", "grokwatch_effective_rank",
                    "grokwatch_cliff_overlap", "grokwatch_gap_ratio", "grokwatch_train_accuracy",
                    "grokwatch_test_accuracy", "grokwatch_train_loss", "grokwatch_test_loss",
                    "grokwatch_analysis_load", "grokwatch_phase")) {
                assertTrue(hasRunSeries(scrape, metric, "torch-it"), metric + " has no series for the PyTorch run in:\n"
                        + scrape);
            }
            assertTrue(scrape.lines().anyMatch(l -> l.startsWith("grokwatch_epoch{") && l.contains("torch-it")
                    && l.endsWith(" 1010.0")), "the epoch gauge follows the last checkpoint");
            assertTrue(scrape.lines().anyMatch(l -> l.startsWith("grokwatch_dead_letters_total{")
                    && l.contains("model-mismatch") && !l.endsWith(" 0.0")), "the dead letter is counted");
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!registry.scrape().lines().anyMatch(l -> l.startsWith("grokwatch_run_ended{")
                    && l.contains("torch-it") && l.endsWith(" 1.0")) && System.nanoTime() < until) {
                Thread.sleep(100);
            }
            assertTrue(registry.scrape().lines().anyMatch(l -> l.startsWith("grokwatch_run_ended{")
                    && l.contains("torch-it") && l.endsWith(" 1.0")), "the run's end reached the analyzer");
        }
    }

    private static boolean hasRunSeries(String scrape, String metric, String runId) {
        return scrape.lines().anyMatch(l -> l.startsWith(metric + "{") && l.contains("\"" + runId + "\""));
    }

    private static List<JsonNode> read(String bootstrap, String topic, String runId, int expected) throws Exception {
        Properties p = ClientConfigs.consumer(bootstrap, "it-reader-" + System.nanoTime());
        p.put("auto.offset.reset", "earliest");
        List<JsonNode> out = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> c = new KafkaConsumer<>(p, new StringDeserializer(),
                new ByteArrayDeserializer())) {
            c.subscribe(List.of(topic));
            long deadline = System.nanoTime() + Duration.ofSeconds(180).toNanos();
            while (out.size() < expected && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, byte[]> r : c.poll(Duration.ofMillis(200))) {
                    if (runId.equals(r.key())) {
                        out.add(JsonFiles.MAPPER.readTree(r.value()));
                    }
                }
            }
        }
        return out;
    }

    /** Debian's Python, which carries python3-torch. */
    static final class OnnxPython {
        static String python() {
            return Files.isExecutable(Path.of("/usr/bin/python3")) ? "/usr/bin/python3" : "python3";
        }
    }
}
