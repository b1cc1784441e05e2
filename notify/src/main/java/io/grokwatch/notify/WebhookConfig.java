package io.grokwatch.notify;

import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * What the webhook dispatcher delivers to, and how hard it tries. Every key has a constant, a default and a
 * check; a bad value fails at construction with the key and what it allows in the message.
 *
 * @param urls           receivers, {@code http} or {@code https} with a host (key {@value #KEY_URLS},
 *                       comma separated; at least one)
 * @param secret         HMAC-SHA256 key of the {@code webhook-signature} header, or several separated by spaces
 *                       (each signs: rotation), or null to send unsigned (key {@value #KEY_SECRET}; see
 *                       {@link WebhookSignature})
 * @param backoffBase    first retry waits up to this long (key {@value #KEY_BACKOFF_BASE_MS}, default
 *                       {@value #DEFAULT_BACKOFF_BASE_MS} ms)
 * @param backoffCap     no retry waits longer (key {@value #KEY_BACKOFF_CAP_MS}, default
 *                       {@value #DEFAULT_BACKOFF_CAP_MS} ms)
 * @param requestTimeout connect + response timeout of one attempt (key {@value #KEY_REQUEST_TIMEOUT_MS}, default
 *                       {@value #DEFAULT_REQUEST_TIMEOUT_MS} ms)
 * @param maxAge         give up on an alert this long after it was raised; zero retries indefinitely (key
 *                       {@value #KEY_MAX_AGE_MS}, default {@value #DEFAULT_MAX_AGE_MS})
 * @param startFrom      where a receiver seen for the first time starts on the alerts topic (key
 *                       {@value #KEY_START_FROM}, default {@code latest})
 * @param groupPrefix    consumer group of a receiver = this prefix + a hash of its URL (key
 *                       {@value #KEY_GROUP_PREFIX}, default {@value #DEFAULT_GROUP_PREFIX})
 * @param externalUrl    the payload's {@code externalURL} and {@code generatorURL}, e.g. where the analyzer's
 *                       metrics are served; may be empty (key {@value #KEY_EXTERNAL_URL})
 */
public record WebhookConfig(List<URI> urls, String secret, Duration backoffBase, Duration backoffCap,
                            Duration requestTimeout, Duration maxAge, StartFrom startFrom, String groupPrefix,
                            String externalUrl) {

    public static final String KEY_URLS = "webhook.urls";
    public static final String KEY_SECRET = "webhook.secret";
    public static final String KEY_BACKOFF_BASE_MS = "webhook.backoff-base-ms";
    public static final String KEY_BACKOFF_CAP_MS = "webhook.backoff-cap-ms";
    public static final String KEY_REQUEST_TIMEOUT_MS = "webhook.request-timeout-ms";
    public static final String KEY_MAX_AGE_MS = "webhook.max-age-ms";
    public static final String KEY_START_FROM = "webhook.start-from";
    public static final String KEY_GROUP_PREFIX = "webhook.group-prefix";
    public static final String KEY_EXTERNAL_URL = "webhook.external-url";

    public static final long DEFAULT_BACKOFF_BASE_MS = 500;
    public static final long DEFAULT_BACKOFF_CAP_MS = 60_000;
    public static final long DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
    public static final long DEFAULT_MAX_AGE_MS = 0;
    public static final String DEFAULT_GROUP_PREFIX = "grokwatch-webhook";

    /** Every key {@link #fromMap} understands; any other {@code webhook.*} key is a typo. */
    public static final List<String> KEYS = List.of(KEY_URLS, KEY_SECRET, KEY_BACKOFF_BASE_MS, KEY_BACKOFF_CAP_MS,
            KEY_REQUEST_TIMEOUT_MS, KEY_MAX_AGE_MS, KEY_START_FROM, KEY_GROUP_PREFIX, KEY_EXTERNAL_URL);

    /** A request must finish well inside the consumer's poll interval (5 min), which it cannot poll during. */
    static final long MAX_REQUEST_TIMEOUT_MS = 120_000;
    static final long MAX_BACKOFF_MS = 3_600_000;
    private static final Pattern GROUP_PREFIX = Pattern.compile("[a-zA-Z0-9._-]{1,100}");

    /** Where a receiver's consumer group starts the first time it is seen (later starts resume its offsets). */
    public enum StartFrom {
        /** Only alerts raised from the receiver's first start on. */
        LATEST,
        /** Every alert still on the topic. */
        EARLIEST;

        static StartFrom parse(String key, String value) {
            for (StartFrom s : values()) {
                if (s.name().toLowerCase(Locale.ROOT).equals(value)) {
                    return s;
                }
            }
            throw new IllegalArgumentException(key + ": '" + value + "' is not allowed; allowed: latest, earliest");
        }
    }

    public WebhookConfig {
        Objects.requireNonNull(urls, KEY_URLS);
        if (urls.isEmpty()) {
            throw new IllegalArgumentException(KEY_URLS + ": no receiver given; allowed: one or more http:// or "
                    + "https:// URLs with a host");
        }
        Set<URI> seen = new HashSet<>();
        for (URI u : urls) {
            checkUrl(u);
            if (!seen.add(u)) {
                throw new IllegalArgumentException(KEY_URLS + ": " + redact(u) + " is listed twice");
            }
        }
        urls = List.copyOf(urls);
        if (secret != null && secret.isBlank()) {
            throw new IllegalArgumentException(KEY_SECRET + ": empty; allowed: one or more non-empty secrets "
                    + "separated by spaces, or no key at all to send unsigned");
        }
        if (secret != null) {
            for (String one : secret.strip().split("\\s+")) {
                try {
                    if (WebhookSignature.key(one).length == 0) {
                        throw new IllegalArgumentException("empty key");
                    }
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException(KEY_SECRET + ": a secret is not usable (" + e.getMessage()
                            + "); allowed: any non-empty string, or whsec_ followed by non-empty base64", e);
                }
            }
        }
        checkRange(KEY_BACKOFF_BASE_MS, backoffBase, 1, MAX_BACKOFF_MS);
        checkRange(KEY_BACKOFF_CAP_MS, backoffCap, 1, MAX_BACKOFF_MS);
        if (backoffCap.compareTo(backoffBase) < 0) {
            throw new IllegalArgumentException(KEY_BACKOFF_CAP_MS + ": " + backoffCap.toMillis() + " is below "
                    + KEY_BACKOFF_BASE_MS + " (" + backoffBase.toMillis() + "); allowed: >= the base");
        }
        checkRange(KEY_REQUEST_TIMEOUT_MS, requestTimeout, 1, MAX_REQUEST_TIMEOUT_MS);
        checkRange(KEY_MAX_AGE_MS, maxAge, 0, Long.MAX_VALUE);
        Objects.requireNonNull(startFrom, KEY_START_FROM);
        if (groupPrefix == null || !GROUP_PREFIX.matcher(groupPrefix).matches()) {
            throw new IllegalArgumentException(KEY_GROUP_PREFIX + ": '" + groupPrefix + "' is not allowed; allowed: "
                    + "1..100 of ASCII letters, digits, '.', '_', '-'");
        }
        externalUrl = externalUrl == null ? "" : externalUrl;
    }

    /** The secrets that sign each request (several during a rotation); empty when unsigned. */
    public List<String> secrets() {
        return secret == null ? List.of() : List.of(secret.strip().split("\\s+"));
    }

    /** The given receivers and secret with every other key at its default. */
    public static WebhookConfig of(List<URI> urls, String secret) {
        return new WebhookConfig(urls, secret, Duration.ofMillis(DEFAULT_BACKOFF_BASE_MS),
                Duration.ofMillis(DEFAULT_BACKOFF_CAP_MS), Duration.ofMillis(DEFAULT_REQUEST_TIMEOUT_MS),
                Duration.ofMillis(DEFAULT_MAX_AGE_MS), StartFrom.LATEST, DEFAULT_GROUP_PREFIX, "");
    }

    /**
     * Reads a flat config map (other namespaces are ignored, an unknown {@code webhook.*} key is an error).
     *
     * @throws IllegalArgumentException naming the key and what it allows
     */
    public static WebhookConfig fromMap(Map<String, String> config) {
        Objects.requireNonNull(config, "config");
        for (String key : new TreeSet<>(config.keySet())) {
            if (key.startsWith("webhook.") && !KEYS.contains(key)) {
                throw new IllegalArgumentException("unknown webhook key '" + key + "'; known keys: "
                        + String.join(", ", KEYS));
            }
        }
        return new WebhookConfig(parseUrls(config.getOrDefault(KEY_URLS, "")), config.get(KEY_SECRET),
                millis(config, KEY_BACKOFF_BASE_MS, DEFAULT_BACKOFF_BASE_MS),
                millis(config, KEY_BACKOFF_CAP_MS, DEFAULT_BACKOFF_CAP_MS),
                millis(config, KEY_REQUEST_TIMEOUT_MS, DEFAULT_REQUEST_TIMEOUT_MS),
                millis(config, KEY_MAX_AGE_MS, DEFAULT_MAX_AGE_MS),
                StartFrom.parse(KEY_START_FROM, config.getOrDefault(KEY_START_FROM, "latest")),
                config.getOrDefault(KEY_GROUP_PREFIX, DEFAULT_GROUP_PREFIX),
                config.getOrDefault(KEY_EXTERNAL_URL, ""));
    }

    /**
     * Parses a comma-separated list of receiver URLs (blanks around commas ignored).
     *
     * @throws IllegalArgumentException naming {@value #KEY_URLS} for an unparsable entry
     */
    public static List<URI> parseUrls(String commaSeparated) {
        List<URI> out = new ArrayList<>();
        for (String part : commaSeparated.split(",")) {
            String s = part.strip();
            if (s.isEmpty()) {
                continue;
            }
            try {
                out.add(new URI(s));
            } catch (URISyntaxException e) {
                throw new IllegalArgumentException(KEY_URLS + ": '" + s + "' is not a URL (" + e.getReason()
                        + "); allowed: http:// or https:// URLs with a host", e);
            }
        }
        return out;
    }

    /** With a different retry schedule (tests, impatient users). */
    public WebhookConfig withBackoff(Duration base, Duration cap) {
        return new WebhookConfig(urls, secret, base, cap, requestTimeout, maxAge, startFrom, groupPrefix, externalUrl);
    }

    public WebhookConfig withRequestTimeout(Duration timeout) {
        return new WebhookConfig(urls, secret, backoffBase, backoffCap, timeout, maxAge, startFrom, groupPrefix,
                externalUrl);
    }

    public WebhookConfig withMaxAge(Duration age) {
        return new WebhookConfig(urls, secret, backoffBase, backoffCap, requestTimeout, age, startFrom, groupPrefix,
                externalUrl);
    }

    public WebhookConfig withStartFrom(StartFrom start) {
        return new WebhookConfig(urls, secret, backoffBase, backoffCap, requestTimeout, maxAge, start, groupPrefix,
                externalUrl);
    }

    public WebhookConfig withGroupPrefix(String prefix) {
        return new WebhookConfig(urls, secret, backoffBase, backoffCap, requestTimeout, maxAge, startFrom, prefix,
                externalUrl);
    }

    public WebhookConfig withExternalUrl(String url) {
        return new WebhookConfig(urls, secret, backoffBase, backoffCap, requestTimeout, maxAge, startFrom, groupPrefix,
                url);
    }

    /** Never prints the secret. */
    @Override
    public String toString() {
        return "WebhookConfig[urls=" + urls.stream().map(WebhookConfig::redact).toList() + ", signed="
                + (secret != null) + ", backoffBase=" + backoffBase + ", backoffCap=" + backoffCap + ", requestTimeout="
                + requestTimeout + ", maxAge=" + maxAge + ", startFrom=" + startFrom + ", groupPrefix=" + groupPrefix
                + "]";
    }

    /** The URL without user info, path, query or fragment (which may carry tokens): {@code scheme://host:port}. */
    static String redact(URI u) {
        if (u.getScheme() == null || u.getHost() == null) {
            return "<URL without scheme or host>";
        }
        return u.getScheme() + "://" + u.getHost() + (u.getPort() >= 0 ? ":" + u.getPort() : "") + "/...";
    }

    private static void checkUrl(URI u) {
        Objects.requireNonNull(u, KEY_URLS);
        String scheme = u.getScheme() == null ? "" : u.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) {
            throw new IllegalArgumentException(KEY_URLS + ": " + (scheme.isEmpty() ? "a URL without a scheme"
                    : "a URL with scheme '" + scheme + "'") + "; allowed: http:// or https:// URLs with a host");
        }
        if (u.getHost() == null || u.getHost().isEmpty()) {
            throw new IllegalArgumentException(KEY_URLS + ": a " + scheme + " URL without a host (or with an "
                    + "unparsable one); allowed: http:// or https:// URLs with a host");
        }
        if (u.getPort() == 0 || u.getPort() > 65535) {
            throw new IllegalArgumentException(KEY_URLS + ": " + redact(u) + " has port " + u.getPort()
                    + "; allowed: 1..65535");
        }
    }

    private static void checkRange(String key, Duration d, long minMs, long maxMs) {
        Objects.requireNonNull(d, key);
        if (d.isNegative() || d.toMillis() < minMs || d.compareTo(Duration.ofMillis(maxMs)) > 0) {
            throw new IllegalArgumentException(key + ": " + d.toMillis() + " is not allowed; allowed: " + minMs
                    + ".." + maxMs + " ms");
        }
    }

    private static Duration millis(Map<String, String> config, String key, long def) {
        String v = config.get(key);
        if (v == null) {
            return Duration.ofMillis(def);
        }
        try {
            return Duration.ofMillis(Long.parseLong(v.strip()));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(key + ": '" + v + "' is not a whole number of milliseconds", e);
        }
    }
}
