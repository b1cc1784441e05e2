package io.grokwatch.kafka;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import java.util.UUID;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.streams.StreamsConfig;

/**
 * Static group membership for an analyzer instance: a {@code group.instance.id} kept in its state directory, the
 * same on every start on that directory and different for every other directory. An instance restarted after a
 * crash (SIGKILL, OOM) then takes its own place in the consumer group back at once, instead of waiting until the
 * broker expires the dead member's session; without it every such restart waited out the session timeout before it
 * analysed anything (docs/operations.md, "Chaos suite"). Two instances never share a state directory (Streams
 * locks it), so they never share an id.
 */
public final class StaticMembership {
    /** The file that holds the id, in the application's own directory of the state directory (Streams' too). */
    static final String FILE = "grokwatch-group-instance-id";

    private StaticMembership() {
    }

    /**
     * The id of the instance with state in {@code stateDir} for {@code applicationId}: read from its file, or
     * made ({@code <application id>-<random UUID>}) and written there on the first start.
     */
    public static String instanceId(Path stateDir, String applicationId) {
        Path appDir = stateDir.resolve(applicationId);
        Path file = appDir.resolve(FILE);
        try {
            if (Files.exists(file)) {
                String id = Files.readString(file, StandardCharsets.UTF_8).strip();
                if (!id.isEmpty()) {
                    return id;
                }
            }
            Files.createDirectories(appDir);
            String id = applicationId + "-" + UUID.randomUUID();
            Path tmp = Files.createTempFile(appDir, FILE, ".tmp");
            Files.writeString(tmp, id + "\n", StandardCharsets.UTF_8);
            try {
                Files.move(tmp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            } catch (FileAlreadyExistsException e) {
                Files.deleteIfExists(tmp);
                return Files.readString(file, StandardCharsets.UTF_8).strip();
            }
            return id;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot keep the analyzer's group instance id in " + file, e);
        }
    }

    /** Makes the main consumers of {@code streams} static members under {@code instanceId} (one per thread). */
    public static Properties apply(Properties streams, String instanceId) {
        streams.put(StreamsConfig.mainConsumerPrefix(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG), instanceId);
        return streams;
    }
}
