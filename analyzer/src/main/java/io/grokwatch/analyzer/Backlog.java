package io.grokwatch.analyzer;

import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * What the analyzer does with a run's checkpoints that arrive faster than it can analyse them.
 *
 * <p>{@link #ALL} analyses every checkpoint in order: the output is complete and the same on every restart, and the
 * lag grows for as long as checkpoints come faster than analyses. {@link #LATEST} keeps the analyzer live: a checkpoint
 * that arrives while an older one of the same run is still waiting supersedes it, so each analysis takes the newest
 * checkpoint there is and the lag stays within about two analyses. Superseded checkpoints are counted on the next
 * spectrum ({@code supersededCheckpoints}) and in a metric; they stay in the checkpoint topic, where
 * {@code grokwatch replay} analyses every one.
 */
public enum Backlog {
    ALL("all"),
    LATEST("latest");

    private final String label;

    Backlog(String label) {
        this.label = label;
    }

    public String label() {
        return label;
    }

    /** The policy of a label ({@code all} or {@code latest}); the error names the allowed values. */
    public static Backlog parse(String label) {
        for (Backlog b : values()) {
            if (b.label.equalsIgnoreCase(label == null ? "" : label.trim())) {
                return b;
            }
        }
        throw new IllegalArgumentException("backlog must be one of " + Arrays.stream(values()).map(Backlog::label)
                .collect(Collectors.joining(", ")) + ", got '" + label + "'");
    }

    @Override
    public String toString() {
        return label;
    }
}
