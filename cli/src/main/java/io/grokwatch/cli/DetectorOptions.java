package io.grokwatch.cli;

import io.grokwatch.detect.DetectorSuite;
import picocli.CommandLine.Option;

import java.util.LinkedHashMap;
import java.util.Map;

/** {@code --detector KEY=VALUE}: detector thresholds, shared by every command that runs the detectors. */
final class DetectorOptions {
    @Option(names = "--detector", paramLabel = "KEY=VALUE", description = "Override a detector threshold, e.g. "
            + "onset.overlap-threshold=0.5 (repeatable; keys: onset.overlap-threshold, onset.min-rise, "
            + "onset.train-accuracy, generalization.train-accuracy, generalization.test-accuracy, gap.ratio, "
            + "gap.flat, gap.persistence, gap.positions, general.train-accuracy, general.kernel-rise, "
            + "general.confidence-rise, and the training-health keys diverging.* and collapse.*).")
    Map<String, String> overrides = new LinkedHashMap<>();

    /** The detectors with these thresholds (unknown keys and bad values fail here, naming the key). */
    DetectorSuite suite() {
        return DetectorSuite.fromConfig(overrides);
    }

    /** {@code onset.overlap-threshold} as given, else the detector's default. */
    double onsetThreshold() {
        suite(); // a bad value fails as it does everywhere, naming its key
        String given = overrides.get("onset.overlap-threshold");
        return given == null ? io.grokwatch.detect.GrokkingOnsetDetector.Config.DEFAULT.overlapThreshold()
                : Double.parseDouble(given.trim());
    }
}
