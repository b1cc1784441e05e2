package io.grokwatch.notify;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SeenIdFileTest {
    @TempDir
    Path dir;

    @Test
    void remembersIdsAcrossReopening() {
        Path file = dir.resolve("sub").resolve("seen-ids");
        try (SeenIdFile seen = new SeenIdFile(file, 10)) {
            assertTrue(seen.firstTime("gw-a"));
            assertFalse(seen.firstTime("gw-a"));
            assertTrue(seen.firstTime("gw-b"));
        }
        try (SeenIdFile again = new SeenIdFile(file, 10)) {
            assertEquals(2, again.size());
            assertFalse(again.firstTime("gw-a"), "a repeat after a restart");
            assertTrue(again.firstTime("gw-c"));
        }
    }

    @Test
    void keepsTheNewestCapacityAndTheFileBounded() throws Exception {
        Path file = dir.resolve("seen-ids");
        try (SeenIdFile seen = new SeenIdFile(file, 3)) {
            for (int i = 0; i < 20; i++) {
                assertTrue(seen.firstTime("id-" + i));
            }
            assertEquals(3, seen.size());
            assertTrue(Files.readAllLines(file).size() < 6, "compacted: " + Files.readAllLines(file));
        }
        try (SeenIdFile again = new SeenIdFile(file, 3)) {
            assertFalse(again.firstTime("id-19"));
            assertTrue(again.firstTime("id-0"), "forgotten beyond the capacity");
        }
    }

    @Test
    void refusesIdsItCannotStore() {
        try (SeenIdFile seen = new SeenIdFile(dir.resolve("s"), 3)) {
            for (String bad : new String[] {"", "a\nb", "x".repeat(201), "with space"}) {
                assertThrows(IllegalArgumentException.class, () -> seen.firstTime(bad), bad);
            }
        }
        assertThrows(IllegalArgumentException.class, () -> new SeenIdFile(dir.resolve("t"), 0));
    }
}
