package io.grokwatch.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.List;

/** The table and totals of {@code evaluate-detector --suite general}. */
final class GeneralReport {
    private GeneralReport() {
    }

    static Table table(List<GeneralSuite.Result> results) {
        Table t = new Table("run", "test>=0.10", "test>=0.90", "general onset", "fourier onset", "generalization",
                "lead", "verdict");
        for (GeneralSuite.Result r : results) {
            t.row(r.spec().label(), epoch(r.test10()), epoch(r.test90()), epoch(r.general()), epoch(r.fourier()),
                    epoch(r.generalization()), lead(r).map(Object::toString).orElse("-"), r.verdict());
        }
        return t;
    }

    /**
     * Epochs by which the general onset alert precedes the generalization alert; empty when either is missing or
     * when the task's chance accuracy is at least the generalization alert's test threshold (sparse parity: 0.5).
     */
    static java.util.Optional<Long> lead(GeneralSuite.Result r) {
        if (r.general() < 0 || r.generalization() < 0 || r.spec().chance() > 0) {
            return java.util.Optional.empty();
        }
        return java.util.Optional.of(r.generalization() - r.general());
    }

    static String totals(List<GeneralSuite.Result> results) {
        long hits = results.stream().filter(GeneralSuite.Result::hit).count();
        long misses = results.stream().filter(GeneralSuite.Result::miss).count();
        long falseAlarms = results.stream().filter(GeneralSuite.Result::falseAlarm).count();
        long grokking = results.stream().filter(GeneralSuite.Result::generalises).count();
        String median = medianLead(results).map(Object::toString).orElse("-");
        return String.format("grokking runs %d: hits %d, misses %d; controls %d: false alarms %d; "
                        + "median lead over the generalization alert %s epochs", grokking, hits, misses,
                results.size() - grokking, falseAlarms, median);
    }

    /** Median of the leads of hit runs (the lower middle of an even count). */
    static java.util.Optional<Long> medianLead(List<GeneralSuite.Result> results) {
        long[] leads = results.stream().filter(GeneralSuite.Result::hit).map(GeneralReport::lead)
                .flatMap(java.util.Optional::stream).mapToLong(Long::longValue).sorted().toArray();
        return leads.length == 0 ? java.util.Optional.empty()
                : java.util.Optional.of(leads[(leads.length - 1) / 2]);
    }

    static ObjectNode json(List<GeneralSuite.Result> results) {
        ObjectNode root = JsonFiles.object();
        ArrayNode arr = root.putArray("runs");
        for (GeneralSuite.Result r : results) {
            ObjectNode o = arr.addObject().put("run", r.spec().label()).put("test10", r.test10())
                    .put("test90", r.test90()).put("generalOnset", r.general()).put("fourierOnset", r.fourier())
                    .put("generalization", r.generalization()).put("hit", r.hit()).put("miss", r.miss())
                    .put("falseAlarm", r.falseAlarm()).put("verdict", r.verdict());
            lead(r).ifPresent(l -> o.put("lead", l));
        }
        root.putObject("totals")
                .put("hits", results.stream().filter(GeneralSuite.Result::hit).count())
                .put("misses", results.stream().filter(GeneralSuite.Result::miss).count())
                .put("falseAlarms", results.stream().filter(GeneralSuite.Result::falseAlarm).count())
                .put("medianLead", medianLead(results).orElse(-1L));
        return root;
    }

    private static String epoch(long e) {
        return e < 0 ? "-" : Long.toString(e);
    }
}
