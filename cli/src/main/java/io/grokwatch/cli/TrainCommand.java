package io.grokwatch.cli;

import io.grokwatch.kafka.TopicAdmin;
import io.grokwatch.kafka.Topics;
import io.grokwatch.observability.MetricsServer;
import io.grokwatch.trainer.RunPublisher;
import io.grokwatch.trainer.TrainerMetrics;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.concurrent.Callable;

/** {@code grokwatch train}: the trainer service. */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Train a task and publish its run descriptor, then a checkpoint every N epochs, to Kafka.",
                "Example: grokwatch train --task modular-addition --run-id ma-1 --bootstrap-servers localhost:9092"})
final class TrainCommand implements Callable<Integer> {
    @Mixin
    TaskOptions task;
    @Option(names = "--run-id", description = "Run id (key of every record of the run). Default: generated.")
    String runId;
    @Option(names = "--bootstrap-servers", required = true, description = "Kafka bootstrap servers, HOST:PORT[,...].")
    String bootstrapServers;
    @Option(names = "--partitions", description = "Partitions of topics this command creates. Default: ${DEFAULT-VALUE}.")
    int partitions = 4;
    @Option(names = "--replication", description = "Replication of topics this command creates. Default: ${DEFAULT-VALUE}.")
    short replication = 1;
    @Mixin
    MetricsOptions metricsOptions;
    @Mixin
    RunLimitsOptions limits;

    @Override
    @SuppressWarnings("try") // the metrics endpoint is held open while training, not used by name
    public Integer call() {
        OptionChecks.requireRange("--partitions", partitions, 1, 100_000);
        OptionChecks.requireRange("--replication", replication, 1, Short.MAX_VALUE);
        String id = runId != null ? runId : task.defaultRunId();
        TrainingPublication publication = new TrainingPublication(task, id, limits.limits());
        Topics topics = Topics.defaults();
        TopicAdmin.ensureTopics(bootstrapServers, topics, partitions, replication);
        PrometheusMeterRegistry registry = MetricsOptions.trainerRegistry();
        TrainerMetrics metrics = metricsOptions.trainerMetrics(registry);
        try (MetricsServer server = metricsOptions.startTrainer(registry, metrics, publication::publishing);
             RunPublisher publisher = new RunPublisher(bootstrapServers, topics, id);
             var producerMetrics = publisher.bindMetrics(registry);
             ProgressBar bar = new ProgressBar("train " + id, publication.checkpoints())) {
            long last = publisher.lastPublishedStep();
            if (last >= 0) {
                System.out.printf("run %s has checkpoints up to step %d on %s: training through them again and "
                        + "publishing from the next one%n", id, last, topics.checkpoints());
                publication.continueAfter(last);
            }
            int[] n = {0};
            publication.run(publisher, (epoch, step, m) -> bar.update(++n[0], String.format("epoch %d loss %.3e",
                    epoch, m.trainLoss())), () -> false, task.epochMillis(0), metrics);
        }
        System.out.printf("published run %s: descriptor and %d checkpoints to %s%n", id, publication.checkpoints(),
                bootstrapServers);
        return 0;
    }
}
