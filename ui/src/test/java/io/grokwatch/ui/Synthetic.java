package io.grokwatch.ui;

import io.grokwatch.records.AlertRecord;
import io.grokwatch.records.Evidence;
import io.grokwatch.records.KernelSpectrum;
import io.grokwatch.records.SpectrumRecord;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Runs shaped like the analyzer's modular-addition and TMS spectra, for tests without a broker. */
final class Synthetic {
    private Synthetic() {
    }

    /** A modular-addition checkpoint: the second cliff turns to sum/diff and the held-out accuracy jumps at 80. */
    static SpectrumRecord modularAddition(String runId, long epoch, int values) {
        double grok = 1 / (1 + Math.exp(-(epoch - 80) / 8.0));
        double[] ev = new double[values];
        for (int i = 0; i < values; i++) {
            ev[i] = (0.6 * grok + 0.002) * (i == 0 ? 1 : i <= 56 ? 0.05 : i <= 112 ? 0.01 : 0.001) * (1 - i * 1e-3);
        }
        Map<String, Map<String, Double>> overlaps = new LinkedHashMap<>();
        overlaps.put("firstCliff", Map.of("n", 0.98, "m", 0.98, "sum", 0.01, "diff", 0.01));
        overlaps.put("secondCliff", Map.of("n", 0.01, "m", 0.01, "sum", 0.08 + 0.85 * grok, "diff", 0.08 + 0.8 * grok));
        Map<String, KernelSpectrum> layers = new LinkedHashMap<>();
        for (String layer : List.of("net.0", "net.3")) {
            double[] lv = new double[values];
            for (int i = 0; i < values; i++) {
                lv[i] = ev[i] / 3;
            }
            layers.put(layer, new KernelSpectrum(lv, overlaps, Map.of("endOfFirstCliff", 2.0), List.of(),
                    40.0, 1e-12, epoch == 0 ? null : 0.1 * (1 - grok), null, null, null, null, null));
        }
        KernelSpectrum whole = new KernelSpectrum(ev, overlaps,
                Map.of("endOfFirstCliff", 4.0 - grok, "endOfSecondCliff", 1 + 0.3 * grok),
                List.of(new KernelSpectrum.Cliff(0, 20), new KernelSpectrum.Cliff(56, 5)), 60.0, 1e-12,
                epoch == 0 ? null : 0.2 * (1 - grok), null, null, null, null, null);
        return SpectrumRecord.of(runId, epoch, epoch, new SpectrumRecord.Reported(1e-2 * Math.exp(-epoch / 50.0),
                        3.4 * (1 - grok) + 0.01, Math.min(1, epoch / 40.0), grok), whole, layers, null,
                new SpectrumRecord.Timings(0.1, 0, 0.25, null));
    }

    /** A TMS checkpoint: eigenvector i aligns with feature i mod features. */
    static SpectrumRecord tms(String runId, long epoch, int features, int vectors) {
        double[] ev = new double[vectors];
        int[] arg = new int[vectors];
        double[] max = new double[vectors];
        for (int i = 0; i < vectors; i++) {
            ev[i] = Math.pow(0.8, i);
            arg[i] = i % features;
            max[i] = i < features ? 0.95 : 0.4;
        }
        KernelSpectrum whole = new KernelSpectrum(ev, null, null, List.of(), 12.0, 1e-12, null, null, null, arg, max,
                null);
        return SpectrumRecord.of(runId, epoch, epoch, new SpectrumRecord.Reported(0.05, Double.NaN, Double.NaN,
                Double.NaN), whole, null, null, null);
    }

    /** A store of {@code runs} modular-addition runs of {@code checkpoints} checkpoints each, with their alerts. */
    static RunStore store(int runs, int checkpoints) {
        RunStore store = new RunStore();
        for (int r = 0; r < runs; r++) {
            String id = String.format("run-%03d", r);
            store.descriptor(new Records.Descriptor(id, Map.of("name", "modular-addition", "p", "29")));
            for (int c = 0; c < checkpoints; c++) {
                store.spectrum(modularAddition(id, 10L * c, 200));
            }
            if (checkpoints > 6) {
                store.alert(alert(id, "grokking-onset", 60, 0.51));
            }
            if (checkpoints > 9) {
                store.alert(alert(id, "generalization", 90, 1.0));
            }
        }
        return store;
    }

    /** An alert of run {@code runId} at epoch = step {@code epoch}. */
    static AlertRecord alert(String runId, String type, long epoch, double confidence) {
        return new AlertRecord(runId, type, epoch, epoch, confidence, new Evidence("a synthetic alert", null));
    }
}
