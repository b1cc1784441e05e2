package io.grokwatch.deployment;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs the external checkers (docker-compose, kubectl, amtool). A missing tool fails the test: ./run-tests
 * installs each of them when missing, so a skip would only hide that a check never ran.
 */
final class Tools {
    /** Exit code, standard output and standard error of one run. */
    record Result(List<String> command, int exitCode, String stdout, String stderr) {
        String describe() {
            return String.join(" ", command) + " exited " + exitCode + "\n--- stdout:\n" + stdout + "\n--- stderr:\n"
                    + stderr;
        }
    }

    private Tools() {
    }

    /**
     * @param debianPackage what provides the tool, for the message when it is missing
     */
    static Result run(String debianPackage, List<String> command) throws IOException, InterruptedException {
        Path err = Files.createTempFile("grokwatch-tool", ".stderr");
        try {
            Process p;
            try {
                p = new ProcessBuilder(command).directory(Repo.ROOT.toFile())
                        .redirectError(err.toFile()).redirectInput(ProcessBuilder.Redirect.PIPE).start();
            } catch (IOException e) {
                throw new AssertionError(command.get(0) + " is not installed: apt-get install -y " + debianPackage
                        + " (./run-tests installs it when missing)", e);
            }
            p.getOutputStream().close();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError(String.join(" ", command) + " did not finish in 120 s");
            }
            return new Result(command, p.exitValue(), out, Files.readString(err, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(err);
        }
    }
}
