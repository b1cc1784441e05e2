package io.grokwatch.deployment;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The repository the deployment files live in, and the readers the tests share. */
final class Repo {
    static final YAMLMapper YAML = new YAMLMapper();

    /** The repository root: the parent of this module's directory (the tests run in deployment/). */
    static final Path ROOT = findRoot();

    private Repo() {
    }

    private static Path findRoot() {
        Path root = Path.of("").toAbsolutePath().getParent();
        if (root == null || !Files.exists(root.resolve("pom.xml")) || !Files.isDirectory(root.resolve("cli"))) {
            throw new IllegalStateException("run the deployment tests from the deployment module (Maven does): "
                    + "no grokwatch repository above " + Path.of("").toAbsolutePath());
        }
        return root;
    }

    static Path path(String relative) {
        return ROOT.resolve(relative);
    }

    static String read(String relative) {
        try {
            return Files.readString(path(relative), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + relative + " in " + ROOT, e);
        }
    }

    static JsonNode yaml(String text) {
        List<JsonNode> docs = yamlDocuments(text);
        if (docs.size() != 1) {
            throw new IllegalArgumentException("expected one YAML document, got " + docs.size());
        }
        return docs.get(0);
    }

    static JsonNode yamlFile(String relative) {
        return yaml(read(relative));
    }

    /** Every non-empty document of a multi-document YAML stream. */
    static List<JsonNode> yamlDocuments(String text) {
        List<JsonNode> docs = new ArrayList<>();
        try (MappingIterator<JsonNode> it = YAML.readerFor(JsonNode.class).readValues(text)) {
            while (it.hasNext()) {
                JsonNode doc = it.next();
                if (doc != null && !doc.isNull() && !doc.isMissingNode()) {
                    docs.add(doc);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("not YAML: " + e.getMessage(), e);
        }
        return docs;
    }

    /** The project version (parent pom's own version): the images are tagged with it. */
    static String projectVersion() {
        return first(read("pom.xml"), "<artifactId>grokwatch-parent</artifactId>\\s*<version>([^<]+)</version>");
    }

    /** A property of the parent pom, e.g. {@code kafka.version}. */
    static String pomProperty(String name) {
        return first(read("pom.xml"), "<" + Pattern.quote(name) + ">([^<]+)</" + Pattern.quote(name) + ">");
    }

    private static String first(String text, String regex) {
        Matcher m = Pattern.compile(regex).matcher(text);
        if (!m.find()) {
            throw new IllegalStateException("pom.xml has no match for " + regex);
        }
        return m.group(1).trim();
    }
}
