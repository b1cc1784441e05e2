package io.grokwatch.cli;

import io.grokwatch.model.ModelDescription;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code publish} and {@code train} refuse, before sending anything (the broker here does not exist), a run the
 * analyzer would refuse; the analyzer's own options are range-checked with messages naming them.
 */
class RunLimitsCliTest {
    @TempDir
    Path dir;

    record Run(int code, String out, String err) {
    }

    private static Run run(String... args) {
        CommandLine cl = Main.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int code = cl.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    /** A 14-input model (modular addition at p = 7) and a checkpoint file name for publish. */
    private Path model() throws Exception {
        Path m = dir.resolve("model.json");
        Files.writeString(m, ModelDescription.modularAddition(7, 16).toJsonString());
        return m;
    }

    private Run publish(String... more) throws Exception {
        List<String> args = new java.util.ArrayList<>(List.of("publish", "--run-id", "r", "--model",
                model().toString(), "--bootstrap-servers", "127.0.0.1:1"));
        args.addAll(List.of(more));
        args.add(dir.resolve("step-1.safetensors").toString());
        return run(args.toArray(new String[0]));
    }

    @Test
    void publishRefusesTooManyProbesBeforeGeneratingThem() throws Exception {
        Run r = publish("--probe", "modular-addition:p=1000");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("the probe set modular-addition:p=1000 has 1000000 probes, over the limit of 16384 "
                + "(max-probes"), r.err());
    }

    @Test
    void publishRefusesProbesThatDoNotFitTheModel() throws Exception {
        Run r = publish("--probe", "modular-addition:p=11");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("the probes have width 22 but the model takes 14 inputs"), r.err());
    }

    @Test
    void aModulusPastIntIsOutOfRangeNotOverflowed() throws Exception {
        Run r = publish("--probe", "modular-addition:p=100000");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("needs p=<modulus> with 2 <= p <= 1000 (p^2 = 10000000000 probes)"), r.err());
    }

    @Test
    void aTopKPastIntIsAnError() throws Exception {
        Run r = publish("--probe", "modular-addition:p=7", "--top-k", "4294967297");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("--top-k") && r.err().contains("4294967297"), r.err());
    }

    @Test
    void trainRefusesARunOverTheLimitsBeforeTraining() {
        Run r = run("train", "--p", "200", "--bootstrap-servers", "127.0.0.1:1", "--metrics-port", "-1");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("the probe set modular-addition:p=200 has 40000 probes, over the limit of 16384"),
                r.err());
        Run raised = run("train", "--p", "200", "--bootstrap-servers", "127.0.0.1:1", "--metrics-port", "-1",
                "--max-probes", "0");
        assertEquals(2, raised.code(), raised.err());
        assertTrue(raised.err().contains("--max-probes must be >= 1, got 0"), raised.err());
    }

    @Test
    void analyzeChecksItsLimitsAtStartNamingTheOption() {
        Run r = run("analyze", "--bootstrap-servers", "127.0.0.1:1", "--dead-letter-original-bytes", "20000000");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("--dead-letter-original-bytes must be in 0..12533760 (the dead-letter topic's "
                + "limit), got 20000000"), r.err());
        Run jump = run("analyze", "--bootstrap-servers", "127.0.0.1:1", "--max-step-jump", "0");
        assertTrue(jump.err().contains("--max-step-jump must be >= 1, got 0"), jump.err());
        Run state = run("analyze", "--bootstrap-servers", "127.0.0.1:1", "--max-state-bytes", "200000000");
        assertTrue(state.err().contains("--max-state-bytes must be at most 133169152"), state.err());
    }

    @Test
    void numericOptionsOutOfRangeAreErrorsNamingThem() throws Exception {
        assertTrue(publish("--probe", "modular-addition:p=7", "--top-k", "0").err()
                .contains("--top-k must be in 1..10000, got 0"));
        assertTrue(publish("--probe", "modular-addition:p=7", "--poll-ms", "-5").err()
                .contains("--poll-ms must be in 1..3600000, got -5"));
        assertTrue(run("analyze", "--bootstrap-servers", "127.0.0.1:1", "--partitions", "0").err()
                .contains("--partitions must be in 1..100000, got 0"));
        assertTrue(run("train", "--bootstrap-servers", "127.0.0.1:1", "--replication", "0", "--metrics-port", "-1")
                .err().contains("--replication must be in 1..32767, got 0"));
    }

    @Test
    void analyzeHelpListsTheNewOptions() {
        Run r = run("analyze", "--help");
        for (String option : List.of("--metrics-host", "--[no-]exit-on-error", "--max-record-retries", "--max-probes",
                "--max-parameters", "--max-kernel-entries", "--max-state-bytes", "--dead-letter-original-bytes",
                "--max-step-jump")) {
            assertTrue(r.out().contains(option), option + " in " + r.out());
        }
    }
}
