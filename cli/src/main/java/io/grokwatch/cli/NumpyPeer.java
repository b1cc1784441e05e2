package io.grokwatch.cli;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The numpy peer of {@code bench entk} ({@code bench/numpy_entk.py}): the same modular-addition analysis and
 * training written plainly in numpy, run by an external Python with its BLAS limited to a given number of threads.
 */
final class NumpyPeer {
    static final String SCRIPT = "numpy_entk.py";

    private final String python;
    private final Path script;

    private NumpyPeer(String python, Path script) {
        this.python = python;
        this.script = script;
    }

    /** Copies the script into {@code dir}. */
    static NumpyPeer in(String python, Path dir) throws IOException {
        Path script = dir.resolve(SCRIPT);
        try (InputStream in = NumpyPeer.class.getResourceAsStream("/bench/" + SCRIPT)) {
            Files.copy(in, script);
        }
        return new NumpyPeer(python, script);
    }

    /** Whether {@code python} runs and imports numpy. */
    static boolean available(String python) {
        try {
            Process p = new ProcessBuilder(python, "-c", "import numpy").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(1, TimeUnit.MINUTES) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private ProcessBuilder command(int threads, List<String> args) {
        List<String> cmd = new java.util.ArrayList<>(List.of(python, script.toString()));
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd);
        Map<String, String> env = pb.environment();
        // Debian's numpy links OpenBLAS built with OpenMP, which reads either variable.
        env.put("OPENBLAS_NUM_THREADS", Integer.toString(threads));
        env.put("OMP_NUM_THREADS", Integer.toString(threads));
        return pb;
    }

    /** A running {@code serve} peer: one timed analysis of the given weights per {@link #analyse()}. */
    Server serve(int threads, Path weights, int p, int topK) throws IOException {
        Process proc = command(threads, List.of("serve", weights.toString(), Integer.toString(p),
                Integer.toString(topK))).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        Server s = new Server(proc, threads);
        JsonNode ready = s.read();
        if (!ready.path("ready").asBoolean()) {
            proc.destroy();
            throw new IllegalStateException("the numpy peer did not start: " + ready);
        }
        s.numpyVersion = ready.path("numpy").asText();
        return s;
    }

    static final class Server implements AutoCloseable {
        private final Process proc;
        private final BufferedReader out;
        private final Writer in;
        final int threads;
        String numpyVersion;

        private Server(Process proc, int threads) {
            this.proc = proc;
            this.threads = threads;
            this.out = new BufferedReader(new InputStreamReader(proc.getInputStream(), StandardCharsets.UTF_8));
            this.in = new java.io.OutputStreamWriter(proc.getOutputStream(), StandardCharsets.UTF_8);
        }

        /** One analysis: its seconds (timed inside the peer), top eigenvalues and overlaps. */
        JsonNode analyse() throws IOException {
            in.write("run\n");
            in.flush();
            return read();
        }

        private JsonNode read() throws IOException {
            String line = out.readLine();
            if (line == null) {
                throw new IllegalStateException("the numpy peer exited early (is numpy installed?)");
            }
            return JsonFiles.MAPPER.readTree(line);
        }

        @Override
        public void close() {
            try {
                in.close();
                if (!proc.waitFor(1, TimeUnit.MINUTES)) {
                    proc.destroy();
                }
            } catch (IOException e) {
                proc.destroy();
            } catch (InterruptedException e) {
                proc.destroy();
                Thread.currentThread().interrupt();
            }
        }
    }

    /** The peer's whole experiment as one process: its JSON line and its wall seconds from start to exit. */
    record Experiment(JsonNode result, double wallSeconds) {
    }

    Experiment experiment(int threads, Path state, int p, int epochs, int every, double lr, double weightDecay,
                          int topK) throws IOException, InterruptedException {
        long t0 = System.nanoTime();
        Process proc = command(threads, List.of("experiment", state.toString(), Integer.toString(p),
                Integer.toString(epochs), Integer.toString(every), Double.toString(lr), Double.toString(weightDecay),
                Integer.toString(topK))).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String stdout = new String(proc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!proc.waitFor(2, TimeUnit.HOURS) || proc.exitValue() != 0) {
            throw new IllegalStateException("the numpy experiment failed: " + stdout);
        }
        double wall = (System.nanoTime() - t0) / 1e9;
        String[] lines = stdout.trim().split("\n");
        return new Experiment(JsonFiles.MAPPER.readTree(lines[lines.length - 1]), wall);
    }
}
