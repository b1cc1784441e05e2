package io.grokwatch.safetensors;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Path;

/** Access to the committed files under {@code src/test/resources/safetensors/} (see make_fixtures.py). */
final class Fixtures {
    private Fixtures() {
    }

    static byte[] bytes(String name) {
        try (InputStream in = Fixtures.class.getResourceAsStream("/safetensors/" + name)) {
            if (in == null) {
                throw new IllegalStateException("missing test resource safetensors/" + name);
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Path path(String name) {
        URL url = Fixtures.class.getResource("/safetensors/" + name);
        if (url == null) {
            throw new IllegalStateException("missing test resource safetensors/" + name);
        }
        try {
            return Path.of(url.toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }
}
