package io.grokwatch.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** The chaos suite's outcomes, one row per scenario, printed as one table when the suite ends. */
final class ChaosTable {
    /**
     * @param checkpoints distinct checkpoints published (run, step)
     * @param recovery    what the scenario's recovery time measures, with its figure; "-" where none applies
     */
    record Row(String scenario, int checkpoints, int spectra, int lost, int duplicated, String alerts,
               String recovery) {
    }

    private static final List<Row> ROWS = new ArrayList<>();

    private ChaosTable() {
    }

    static synchronized void add(Row row) {
        ROWS.add(row);
        System.out.println("chaos: " + format(List.of(row)).lines().skip(2).findFirst().orElse(""));
    }

    static synchronized String print() {
        String table = format(ROWS);
        System.out.println();
        System.out.println("Chaos suite (" + ROWS.size() + " scenarios):");
        System.out.println(table);
        return table;
    }

    static String format(List<Row> rows) {
        StringBuilder out = new StringBuilder();
        out.append("| scenario | checkpoints | spectra | lost | duplicated | alerts delivered | recovery time |\n");
        out.append("|---|---:|---:|---:|---:|---|---|\n");
        for (Row r : rows) {
            out.append(String.format(Locale.ROOT, "| %s | %d | %d | %d | %d | %s | %s |%n", r.scenario(),
                    r.checkpoints(), r.spectra(), r.lost(), r.duplicated(), r.alerts(), r.recovery()));
        }
        return out.toString();
    }
}
