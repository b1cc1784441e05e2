package io.grokwatch.kafka.embedded;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import io.grokwatch.kafka.InProcessBroker;
import org.junit.jupiter.api.Test;

/** Code that compiles against the clients alone (the demo) finds the broker where this module is on the classpath. */
class FactoryTest {

    @Test
    void theServiceLoaderFindsTheEmbeddedBroker() {
        assertInstanceOf(EmbeddedKafka.Factory.class, InProcessBroker.factory().orElseThrow());
    }
}
