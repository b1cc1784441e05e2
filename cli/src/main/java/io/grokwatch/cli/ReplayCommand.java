package io.grokwatch.cli;

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
        int[] n = {0};
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(
                ClientConfigs.producer(bootstrapServers, "grokwatch-replay-" + runId), new StringSerializer(),
                new ByteArraySerializer());
             BufferedWriter file = out == null ? null : Files.newBufferedWriter(out)) {
            replayer.replay(runId, fromStep, (ObjectNode spectrum) -> {
                try {
                    byte[] bytes = JsonFiles.MAPPER.writeValueAsBytes(spectrum);
                    producer.send(new ProducerRecord<>(toTopic, runId, bytes)).get();
                    if (file != null) {
                        file.write(new String(bytes, java.nio.charset.StandardCharsets.UTF_8));
                        file.newLine();
                    }
                } catch (Exception e) {
                    throw new IllegalStateException("could not publish the replayed spectrum: " + e.getMessage(), e);
                }
                n[0]++;
                System.out.printf("step %d replayed%n", spectrum.get("step").asLong());
            });
        }
        System.out.printf("replayed %d checkpoints of run %s to %s%s%n", n[0], runId, toTopic,
                out == null ? "" : " and " + out);
        return 0;
    }
}
