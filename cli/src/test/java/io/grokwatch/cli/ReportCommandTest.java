package io.grokwatch.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code grokwatch report} from files: demo's JSON lines, an experiment's JSON, and what it refuses. */
class ReportCommandTest {
    @TempDir
    Path dir;

    private static final String SPECTRUM = "{\"kind\":\"spectrum\",\"runId\":\"r1\",\"step\":%d,\"epoch\":%d,"
            + "\"trainAccuracy\":0.5,\"testAccuracy\":0.1,\"eigenvalues\":[3,2,1],"
            + "\"overlaps\":{\"secondCliff\":{\"sum\":0.5,\"diff\":0.4}},\"effectiveRank\":2.5}";

    @Test
    void writesOneSelfContainedFilePerInput() throws Exception {
        Path in = dir.resolve("run.jsonl");
        Files.writeString(in, String.format(SPECTRUM, 0, 0) + "\n" + String.format(SPECTRUM, 10, 10) + "\n"
                + "{\"kind\":\"alert\",\"runId\":\"r1\",\"type\":\"grokking-onset\",\"epoch\":10,\"step\":10,"
                + "\"confidence\":0.5}\n");
        Path out = dir.resolve("out").resolve("report.html");
        assertEquals(0, Main.commandLine().execute("report", "--in", in.toString(), "--out", out.toString()));
        String html = Files.readString(out);
        assertTrue(html.startsWith("<!DOCTYPE html>"), html);
        assertTrue(html.contains("grokwatch report: r1"));
        assertTrue(html.contains("data-type=\"grokking-onset\""));
    }

    @Test
    void saysWhatIsMissing() throws Exception {
        StringWriter err = new StringWriter();
        var cl = Main.commandLine();
        cl.setErr(new PrintWriter(err));
        assertEquals(2, cl.execute("report", "--out", dir.resolve("r.html").toString()));
        assertTrue(err.toString().contains("give either --in FILE or --run-id with --bootstrap-servers"), err.toString());

        Path in = dir.resolve("run.jsonl");
        Files.writeString(in, String.format(SPECTRUM, 0, 0) + "\n");
        err.getBuffer().setLength(0);
        assertEquals(2, cl.execute("report", "--in", in.toString(), "--run-id", "other", "--out",
                dir.resolve("r.html").toString()));
        assertTrue(err.toString().contains("no analysed checkpoint of run other in run.jsonl (runs there: r1)"),
                err.toString());
    }
}
