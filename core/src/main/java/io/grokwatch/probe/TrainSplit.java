package io.grokwatch.probe;

import java.util.Arrays;

/**
 * Which probes a run trains on, and their labels: what the family-free onset detector needs (no held-out label).
 *
 * @param train  ascending, distinct probe rows of the training set; neither empty nor every probe
 * @param labels one class per training row, in the order of {@code train}, each in {@code 0..classes-1}
 * @param probes number of probes
 */
public record TrainSplit(int[] train, int[] labels, int probes) {
    public TrainSplit {
        if (probes < 2) {
            throw new IllegalArgumentException("a train split needs at least 2 probes, got " + probes);
        }
        if (train.length == 0 || train.length >= probes) {
            throw new IllegalArgumentException("\"probe.train\" must list some but not all of the " + probes
                    + " probes, got " + train.length);
        }
        if (labels.length != train.length) {
            throw new IllegalArgumentException("\"probe.labels\" must give one label per training probe: "
                    + train.length + " training probes, " + labels.length + " labels");
        }
        for (int i = 0; i < train.length; i++) {
            if (train[i] < 0 || train[i] >= probes) {
                throw new IllegalArgumentException("\"probe.train\" row " + train[i] + " outside 0.." + (probes - 1));
            }
            if (i > 0 && train[i] <= train[i - 1]) {
                throw new IllegalArgumentException("\"probe.train\" rows must be ascending and distinct, got "
                        + train[i - 1] + " then " + train[i]);
            }
            if (labels[i] < 0) {
                throw new IllegalArgumentException("\"probe.labels\" must be class indices >= 0, got " + labels[i]);
            }
        }
        train = train.clone();
        labels = labels.clone();
    }

    @Override
    public int[] train() {
        return train.clone();
    }

    @Override
    public int[] labels() {
        return labels.clone();
    }

    /** One flag per probe: true on training rows. */
    public boolean[] mask() {
        boolean[] m = new boolean[probes];
        for (int r : train) {
            m[r] = true;
        }
        return m;
    }

    /** One more than the largest label. */
    public int classes() {
        return Arrays.stream(labels).max().orElse(0) + 1;
    }

    /** Positions (into {@link #train()}) of at most {@code max} training probes, evenly spaced. */
    public int[] evenlySpaced(int max) {
        if (max < 1) {
            throw new IllegalArgumentException("max must be >= 1, got " + max);
        }
        int take = Math.min(max, train.length);
        int[] pos = new int[take];
        for (int k = 0; k < take; k++) {
            pos[k] = (int) ((long) k * train.length / take);
        }
        return pos;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TrainSplit s && probes == s.probes && Arrays.equals(train, s.train)
                && Arrays.equals(labels, s.labels);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * Arrays.hashCode(train) + Arrays.hashCode(labels)) + probes;
    }

    @Override
    public String toString() {
        return "TrainSplit[" + train.length + " of " + probes + " probes]";
    }
}
