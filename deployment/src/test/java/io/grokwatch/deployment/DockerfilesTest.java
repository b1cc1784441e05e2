package io.grokwatch.deployment;

import io.grokwatch.cli.Main;
import io.grokwatch.kafka.InProcessBroker;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * analyzer/Dockerfile and trainer/Dockerfile, read as text (no Docker engine here). hadolint, the usual
 * Dockerfile linter, is not packaged by Debian and cannot be installed on these machines, so these checks
 * stand in for it.
 */
class DockerfilesTest {
    static Dockerfile dockerfile(String service) {
        String name = service + "/Dockerfile";
        return Dockerfile.parse(name, Repo.read(name));
    }

    @ParameterizedTest
    @CsvSource({"analyzer, analyze, 9464", "trainer, train, 9465"})
    void buildsTheReactorAndRunsTheCliAsNonRoot(String service, String subcommand, int port) {
        Dockerfile file = dockerfile(service);
        assertEquals(2, file.stages().size(), file.name() + ": a build stage and a runtime stage");

        Dockerfile.Stage build = file.stages().get(0);
        assertTrue(build.image().startsWith("maven:") && build.image().contains("eclipse-temurin-17"),
                file.name() + ": build stage is Maven on Temurin 17, got " + build.image());
        assertEquals("build", build.alias());
        String run = build.all("RUN").stream().map(Dockerfile.Instruction::args).reduce("", String::concat);
        assertTrue(run.contains("mvn -B") && run.contains("-DskipTests") && run.contains(" package"),
                file.name() + ": the build stage runs mvn -B -DskipTests package: " + run);
        assertTrue(run.contains("dependency:copy-dependencies") && run.contains("-DincludeScope=runtime"),
                file.name() + ": runtime jars are copied for the image: " + run);

        Dockerfile.Stage runtime = file.finalStage();
        assertEquals("eclipse-temurin:17-jre", runtime.image(), file.name());
        assertTrue(runtime.all("COPY").stream().anyMatch(c -> c.args().startsWith("--from=build ")),
                file.name() + ": the runtime stage takes the jars from the build stage");

        String user = runtime.last("USER").orElseThrow(() -> new AssertionError(file.name() + ": no USER")).args();
        String uid = user.split(":")[0];
        assertTrue(uid.matches("\\d+"), file.name() + ": USER numeric, so Kubernetes runAsNonRoot can check it: " + user);
        assertNotEquals(0, Integer.parseInt(uid), file.name() + ": runs as root");

        assertTrue(runtime.all("ENV").stream().anyMatch(e -> e.args().equals("OPENBLAS_NUM_THREADS=1")),
                file.name() + ": ENV OPENBLAS_NUM_THREADS=1");
        assertTrue(runtime.all("ENV").stream().anyMatch(e -> e.args().equals("GLIBC_TUNABLES=glibc.malloc.hugetlb=1")),
                file.name() + ": ENV GLIBC_TUNABLES=glibc.malloc.hugetlb=1 (native buffers on huge pages)");

        List<String> entrypoint = runtime.last("ENTRYPOINT").orElseThrow().execForm();
        assertEquals("java", entrypoint.get(0), file.name());
        int main = entrypoint.indexOf("io.grokwatch.cli.Main");
        assertTrue(main > 0, file.name() + ": ENTRYPOINT runs io.grokwatch.cli.Main: " + entrypoint);
        assertTrue(Files.exists(Repo.path("cli/src/main/java/io/grokwatch/cli/Main.java")),
                "the ENTRYPOINT's class is in the cli sources");
        assertEquals(List.of(subcommand), entrypoint.subList(main + 1, entrypoint.size()),
                file.name() + ": ENTRYPOINT ends with the subcommand");
        assertTrue(CliArgs.subcommands().contains(subcommand), "grokwatch has no subcommand " + subcommand);
        int cp = entrypoint.indexOf("-cp");
        assertTrue(cp > 0 && entrypoint.get(cp + 1).equals("/app/lib/*"),
                file.name() + ": the classpath is the copied jars: " + entrypoint);

        // The default command (CMD) parses as the subcommand's options.
        List<String> cmd = runtime.last("CMD").orElseThrow().execForm();
        var parsed = CliArgs.parse(file.name() + " CMD", subcommand, cmd);

        assertEquals(List.of(Integer.toString(port)), runtime.all("EXPOSE").stream().map(Dockerfile.Instruction::args).toList(),
                file.name() + ": EXPOSE the metrics port");
        String health = runtime.last("HEALTHCHECK").orElseThrow().args();
        Matcher url = Pattern.compile("http://127\\.0\\.0\\.1:(\\d+)/healthz").matcher(health);
        assertTrue(url.find(), file.name() + ": HEALTHCHECK requests /healthz: " + health);
        assertEquals(port, Integer.parseInt(url.group(1)), file.name() + ": HEALTHCHECK on the metrics port");
        assertTrue(health.contains("curl -f"), file.name() + ": the health check fails on an HTTP error");
        assertTrue(runtime.all("RUN").stream().anyMatch(r -> r.args().contains("install -y --no-install-recommends curl")),
                file.name() + ": curl, which the HEALTHCHECK uses, is installed");
        assertEquals("0.0.0.0", CliArgs.optionValue(parsed, "--metrics-host"),
                file.name() + ": the endpoint listens beyond the container (the default is 127.0.0.1)");
        Object metricsPort = CliArgs.optionValue(parsed, "--metrics-port");
        if (metricsPort != null) {
            assertEquals(port, metricsPort, file.name() + ": the service listens where EXPOSE and HEALTHCHECK say");
        }
    }

    @Test
    void bothImagesShareOneBuildStage() {
        assertEquals(dockerfile("analyzer").stages().get(0), dockerfile("trainer").stages().get(0),
                "identical build stages: building both images runs the Maven build once");
    }

    /**
     * The images carry the cli's runtime classpath, which is this module's test classpath too (it depends on the cli
     * and on test libraries only, not on kafka-embedded): Kafka's clients and Streams, and no broker. There the demo
     * says how to get one, before it starts anything.
     */
    @Test
    void theImagesCarryKafkasClientsAndStreamsButNoBroker(@TempDir Path dir) {
        for (String service : List.of("analyzer", "trainer")) {
            String run = dockerfile(service).stages().get(0).all("RUN").stream().map(Dockerfile.Instruction::args)
                    .reduce("", String::concat);
            assertTrue(run.contains(" -pl cli ") && !run.contains("launcher") && !run.contains("kafka-embedded"),
                    service + "/Dockerfile: the image takes the cli's runtime jars: " + run);
        }
        ClassLoader loader = DockerfilesTest.class.getClassLoader();
        for (String present : List.of("org.apache.kafka.clients.producer.KafkaProducer",
                "org.apache.kafka.streams.KafkaStreams")) {
            assertDoesNotThrow(() -> Class.forName(present, false, loader), present);
        }
        for (String absent : List.of("kafka.server.KafkaRaftServer", "org.apache.kafka.raft.KafkaRaftClient",
                "org.apache.kafka.server.common.MetadataVersion", "scala.Option",
                "io.grokwatch.kafka.embedded.EmbeddedKafka")) {
            assertThrows(ClassNotFoundException.class, () -> Class.forName(absent, false, loader),
                    absent + " is on the images' classpath");
        }
        assertTrue(InProcessBroker.factory().isEmpty(), "an in-process broker is on the images' classpath");

        StringWriter err = new StringWriter();
        picocli.CommandLine cli = Main.commandLine();
        cli.setOut(new PrintWriter(new StringWriter(), true));
        cli.setErr(new PrintWriter(err, true));
        int code = cli.execute("demo", "--exit-when-done", "--data-dir", dir.resolve("demo").toString(),
                "--metrics-port", "-1");
        assertEquals(2, code, err.toString());
        assertTrue(err.toString().contains("no in-process Kafka broker") && err.toString().contains("--bootstrap-servers"),
                err.toString());
        assertFalse(Files.exists(dir.resolve("demo")), "nothing started");
    }

    @Test
    void dockerignoreKeepsWhatTheReactorNeeds() {
        List<String> ignored = Repo.read(".dockerignore").lines().map(String::strip)
                .filter(l -> !l.isEmpty() && !l.startsWith("#")).toList();
        assertTrue(ignored.contains("**/target"), "build output stays out of the context");
        assertTrue(ignored.contains(".git"), ".git stays out of the context");
        for (String pattern : ignored) {
            assertFalse(pattern.contains("pom.xml") || pattern.contains("src") || pattern.equals("*"),
                    ".dockerignore must not drop a module's pom or sources: " + pattern);
        }
        Matcher modules = Pattern.compile("<module>([^<]+)</module>").matcher(Repo.read("pom.xml"));
        while (modules.find()) {
            assertFalse(ignored.contains(modules.group(1)), ".dockerignore drops reactor module " + modules.group(1));
        }
    }

    @Test
    void readerRejectsWhatItCannotRead() {
        assertThrows(IllegalArgumentException.class, () -> Dockerfile.parse("x", "RUN echo\n"));
        assertThrows(IllegalArgumentException.class, () -> Dockerfile.parse("x", "FROM a\nRUN echo \\\n"));
        Dockerfile two = Dockerfile.parse("x", "# c\nFROM a AS b\nRUN x \\\n  # inside\n  y\nFROM c\nCMD [\"z\"]\n");
        assertEquals(List.of(new Dockerfile.Instruction("RUN", "x y")), two.stages().get(0).instructions());
        assertEquals(List.of("z"), two.finalStage().last("CMD").orElseThrow().execForm());
    }
}
