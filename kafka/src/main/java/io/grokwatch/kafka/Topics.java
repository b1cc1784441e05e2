package io.grokwatch.kafka;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * The names of grokwatch's topics, as one validated value so that the trainer, the analyzer and the
 * admin code cannot disagree about them. Every name is checked against Kafka's own rules at
 * construction, so a typo fails at start-up with the config key in the message rather than as a
 * broker error later.
 *
 * @param runs        run descriptors, compacted, keyed by run id (key {@value #KEY_RUNS}, default
 *                    {@value #DEFAULT_RUNS})
 * @param checkpoints model checkpoints, up to {@link TopicAdmin#MAX_CHECKPOINT_BYTES} each (key
 *                    {@value #KEY_CHECKPOINTS}, default {@value #DEFAULT_CHECKPOINTS})
 * @param spectra     eNTK spectra computed by the analyzer (key {@value #KEY_SPECTRA}, default
 *                    {@value #DEFAULT_SPECTRA})
 * @param alerts      grokking/phase-change alerts (key {@value #KEY_ALERTS}, default
 *                    {@value #DEFAULT_ALERTS})
 * @param deadLetter  records that could not be processed, with the original bytes and the reason (key
 *                    {@value #KEY_DEAD_LETTER}, default {@value #DEFAULT_DEAD_LETTER})
 */
public record Topics(String runs, String checkpoints, String spectra, String alerts, String deadLetter) {

    public static final String KEY_RUNS = "topic.runs";
    public static final String KEY_CHECKPOINTS = "topic.checkpoints";
    public static final String KEY_SPECTRA = "topic.spectra";
    public static final String KEY_ALERTS = "topic.alerts";
    public static final String KEY_DEAD_LETTER = "topic.dead-letter";

    public static final String DEFAULT_RUNS = "grokwatch.runs";
    public static final String DEFAULT_CHECKPOINTS = "grokwatch.checkpoints";
    public static final String DEFAULT_SPECTRA = "grokwatch.spectra";
    public static final String DEFAULT_ALERTS = "grokwatch.alerts";
    public static final String DEFAULT_DEAD_LETTER = "grokwatch.dead-letter";

    /** Kafka's limit (the log directory name adds a partition suffix to it). */
    public static final int MAX_NAME_LENGTH = 249;

    /** The keys {@link #fromMap} understands; any other {@code topic.*} key is a typo. */
    public static final List<String> KEYS =
            List.of(KEY_RUNS, KEY_CHECKPOINTS, KEY_SPECTRA, KEY_ALERTS, KEY_DEAD_LETTER);

    private static final String KEY_PREFIX = "topic.";
    private static final Pattern LEGAL = Pattern.compile("[a-zA-Z0-9._-]+");
    private static final String ALLOWED =
            "1.." + MAX_NAME_LENGTH + " of ASCII letters, digits, '.', '_', '-' (not \".\" or \"..\")";

    public Topics {
        validate(KEY_RUNS, runs);
        validate(KEY_CHECKPOINTS, checkpoints);
        validate(KEY_SPECTRA, spectra);
        validate(KEY_ALERTS, alerts);
        validate(KEY_DEAD_LETTER, deadLetter);
        // Each role gets its own topic config (compaction, size limits): sharing one would mix them.
        Map<String, String> seen = new HashMap<>();
        String[] names = {runs, checkpoints, spectra, alerts, deadLetter};
        for (int i = 0; i < names.length; i++) {
            String previous = seen.putIfAbsent(names[i], KEYS.get(i));
            if (previous != null) {
                throw new IllegalArgumentException(KEYS.get(i) + ": '" + names[i]
                        + "' is already used by " + previous + "; every topic must have its own name");
            }
        }
    }

    /** The documented defaults ({@code grokwatch.*}). */
    public static Topics defaults() {
        return new Topics(DEFAULT_RUNS, DEFAULT_CHECKPOINTS, DEFAULT_SPECTRA, DEFAULT_ALERTS,
                DEFAULT_DEAD_LETTER);
    }

    /**
     * Reads the names from a flat config map, falling back to the defaults for absent keys. Keys outside
     * the {@code topic.} namespace are ignored (the map may hold a whole application config); an unknown
     * {@code topic.*} key is rejected with the list of known keys.
     *
     * @throws IllegalArgumentException naming the offending key and what it allows
     */
    public static Topics fromMap(Map<String, String> config) {
        Objects.requireNonNull(config, "config");
        for (String key : new TreeSet<>(config.keySet())) {
            if (key.startsWith(KEY_PREFIX) && !KEYS.contains(key)) {
                throw new IllegalArgumentException(
                        "unknown topic key '" + key + "'; known keys: " + String.join(", ", KEYS));
            }
        }
        return new Topics(
                config.getOrDefault(KEY_RUNS, DEFAULT_RUNS),
                config.getOrDefault(KEY_CHECKPOINTS, DEFAULT_CHECKPOINTS),
                config.getOrDefault(KEY_SPECTRA, DEFAULT_SPECTRA),
                config.getOrDefault(KEY_ALERTS, DEFAULT_ALERTS),
                config.getOrDefault(KEY_DEAD_LETTER, DEFAULT_DEAD_LETTER));
    }

    /** The inverse of {@link #fromMap}, in {@link #KEYS} order. */
    public Map<String, String> toMap() {
        Map<String, String> map = new LinkedHashMap<>();
        map.put(KEY_RUNS, runs);
        map.put(KEY_CHECKPOINTS, checkpoints);
        map.put(KEY_SPECTRA, spectra);
        map.put(KEY_ALERTS, alerts);
        map.put(KEY_DEAD_LETTER, deadLetter);
        return map;
    }

    private static void validate(String key, String name) {
        if (name == null) {
            throw new IllegalArgumentException(key + ": topic name is missing; allowed: " + ALLOWED);
        }
        if (name.isEmpty() || name.length() > MAX_NAME_LENGTH || name.equals(".") || name.equals("..")
                || !LEGAL.matcher(name).matches()) {
            String shown = name.length() > 60 ? name.substring(0, 60) + "..." : name;
            throw new IllegalArgumentException(key + ": '" + shown + "' (length " + name.length()
                    + ") is not a legal Kafka topic name; allowed: " + ALLOWED);
        }
    }
}
