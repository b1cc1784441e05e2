package io.grokwatch.notify;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;

/**
 * The webhook ids a receiver has accepted, the newest {@code capacity} of them, kept in a file (one id a line,
 * appended as they come, rewritten when it holds twice the capacity) so that a restarted receiver still knows a
 * repeat. A repeat older than the capacity is taken as new: size it above the alerts a receiver gets in the time a
 * sender may keep retrying. Thread-safe.
 */
public final class SeenIdFile implements AutoCloseable {
    /** Ids longer than this, or with characters outside printable ASCII, are refused (they are never ours). */
    public static final int MAX_ID_LENGTH = 200;

    private final Path file;
    private final int capacity;
    private final LinkedHashSet<String> ids = new LinkedHashSet<>();
    private BufferedWriter out;
    private long lines;

    /**
     * Opens (or creates) {@code file} and reads the ids it holds.
     *
     * @throws IllegalArgumentException if the capacity is below 1
     * @throws UncheckedIOException     if the file cannot be read or created
     */
    public SeenIdFile(Path file, int capacity) {
        this.file = Objects.requireNonNull(file, "file");
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity: " + capacity + " is not allowed; allowed: 1 or more");
        }
        this.capacity = capacity;
        try {
            Path parent = file.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            if (Files.exists(file)) {
                List<String> stored = Files.readAllLines(file, StandardCharsets.UTF_8);
                for (String id : stored) {
                    if (valid(id)) {
                        remember(id);
                    }
                }
                lines = stored.size();
            }
            out = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                    StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot use " + file + " for seen webhook ids: " + e.getMessage(), e);
        }
    }

    /** Whether an id is one this store can hold: 1..{@value #MAX_ID_LENGTH} printable ASCII characters. */
    public static boolean valid(String id) {
        if (id == null || id.isEmpty() || id.length() > MAX_ID_LENGTH) {
            return false;
        }
        return id.chars().allMatch(c -> c > 0x20 && c < 0x7f);
    }

    /**
     * Records {@code id}; true the first time it is seen (within the capacity), false for a repeat.
     *
     * @throws IllegalArgumentException if the id is not {@link #valid}
     */
    public synchronized boolean firstTime(String id) {
        if (!valid(id)) {
            throw new IllegalArgumentException("not a webhook id: 1.." + MAX_ID_LENGTH + " printable ASCII characters");
        }
        if (ids.contains(id)) {
            return false;
        }
        remember(id);
        try {
            out.write(id);
            out.newLine();
            out.flush();
            if (++lines >= 2L * capacity) {
                compact();
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
        return true;
    }

    public synchronized int size() {
        return ids.size();
    }

    private void remember(String id) {
        ids.remove(id);
        ids.add(id);
        Iterator<String> oldest = ids.iterator();
        while (ids.size() > capacity) {
            oldest.next();
            oldest.remove();
        }
    }

    /** Rewrites the file with the ids held, atomically, so a crash leaves the old or the new one. */
    private void compact() throws IOException {
        out.close();
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.write(tmp, ids, StandardCharsets.UTF_8);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        lines = ids.size();
        out = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                StandardOpenOption.APPEND);
    }

    @Override
    public synchronized void close() {
        try {
            out.close();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot close " + file + ": " + e.getMessage(), e);
        }
    }
}
