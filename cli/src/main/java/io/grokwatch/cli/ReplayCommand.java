package io.grokwatch.cli;

import io.grokwatch.records.SpectrumRecord;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.grokwatch.analyzer.Replayer;
import io.grokwatch.kafka.ClientConfigs;
import io.grokwatch.kafka.Topics;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.BufferedWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code grokwatch replay}: re-analyse a run from its checkpoint topic. */
@Command(name = "replay", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Re-analyse a run from the checkpoint topic and publish the spectra to a topic (and/or a "
                + "JSON-lines file). The results are those of the live analysis.",
                "Example: grokwatch replay --run-id ma-1 --bootstrap-servers localhost:9092 --out replay.jsonl"})
final class ReplayCommand implements Callable<Integer> {
    @Option(names = "--run-id", required = true, description = "The run to re-analyse.")
    String runId;
    @Option(names = "--bootstrap-servers", required = true, description = "Kafka bootstrap servers.")
    String bootstrapServers;
    @Option(names = "--from-step", description = "First step to re-analyse. Default: ${DEFAULT-VALUE}.")
    long fromStep = 0;
    @Option(names = "--to-topic", description = "Topic for the replayed spectra. Default: ${DEFAULT-VALUE}.")
    String toTopic = "grokwatch.spectra.replay";
    @Option(names = "--out", description = "Also write the spectra as JSON lines to this file.")
    Path out;

    @Override
    public Integer call() throws Exception {
        Replayer replayer = new Replayer(bootstrapServers, Topics.defaults());
        // Clusters that create no topic on first use (the embedded broker among them) would time out the first send.
        io.grokwatch.kafka.TopicAdmin.ensureSpectraTopic(bootstrapServers, toTopic);
        int[] n = {0};
        SpectrumRecord.Pace[] pace = {null};
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(
                ClientConfigs.producer(bootstrapServers, "grokwatch-replay-" + runId), new StringSerializer(),
                new ByteArraySerializer());
             BufferedWriter file = out == null ? null : Files.newBufferedWriter(out)) {
            replayer.replay(runId, fromStep, (SpectrumRecord spectrum) -> {
                try {
                    byte[] bytes = spectrum.toBytes();
                    producer.send(new ProducerRecord<>(toTopic, runId, bytes)).get();
                    if (file != null) {
                        file.write(new String(bytes, java.nio.charset.StandardCharsets.UTF_8));
                        file.newLine();
                    }
                } catch (Exception e) {
                    throw new IllegalStateException("could not publish the replayed spectrum: " + e.getMessage(), e);
                }
                n[0]++;
                if (spectrum.pace() != null) {
                    pace[0] = spectrum.pace();
                }
                System.out.printf("step %d replayed%n", spectrum.step());
            });
        }
        System.out.printf("replayed %d checkpoints of run %s to %s%s%n", n[0], runId, toTopic,
                out == null ? "" : " and " + out);
        if (pace[0] != null) {
            System.out.println(paceLine(pace[0]));
        }
        return 0;
    }

    /** Whether this analyzer would have kept up with the run live, from the last replayed spectrum's pace. */
    static String paceLine(SpectrumRecord.Pace pace) {
        String line = String.format("against the run's own checkpoint times: %.2f s per checkpoint here, one produced "
                        + "every %.2f s (load %.2f)", pace.serviceSeconds(), pace.checkpointIntervalSeconds(),
                pace.load());
        if (pace.keepingUp()) {
            return line + ": this analyzer would have kept up with it live";
        }
        return line + ": live, the lag would have grown by " + String.format("%.2f s per checkpoint",
                pace.lagGrowthSecondsPerCheckpoint()) + (pace.epochsPerCheckpointToKeepUp() != null
                ? String.format(" (it keeps up with a checkpoint every %d epochs or more)",
                pace.epochsPerCheckpointToKeepUp()) : "");
    }
}
