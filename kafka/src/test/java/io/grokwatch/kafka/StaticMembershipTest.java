package io.grokwatch.kafka;

import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StaticMembershipTest {
    @TempDir
    Path dir;

    @Test
    void theSameStateDirectoryKeepsItsIdAndAnotherGetsItsOwn() {
        String first = StaticMembership.instanceId(dir.resolve("a"), "app");
        assertTrue(first.startsWith("app-"), first);
        assertEquals(first, StaticMembership.instanceId(dir.resolve("a"), "app"), "a restart on the same directory");
        assertNotEquals(first, StaticMembership.instanceId(dir.resolve("b"), "app"), "another instance");
        assertNotEquals(first, StaticMembership.instanceId(dir.resolve("a"), "other-app"), "another application");
    }

    @Test
    void theMainConsumersGetTheId() {
        Properties p = StaticMembership.apply(new Properties(), "app-1");
        assertEquals("app-1", p.get(StreamsConfig.mainConsumerPrefix("group.instance.id")));
    }
}
