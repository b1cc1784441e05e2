package io.grokwatch.notify;

import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import java.util.Objects;

/**
 * A receiver's checks of one webhook request, in order: the signature headers (when it has secrets), the timestamp
 * within the tolerance, and the id not seen before. A repeat is accepted (the sender must stop retrying) but
 * flagged, so its alert is not acted on twice. Without secrets a request without an id (Alertmanager's) is
 * accepted as new.
 */
public final class WebhookVerifier {
    /** What to do with a request: its HTTP status, whether it is a repeat, and why it was refused. */
    public record Outcome(int status, boolean repeat, String refusal) {
        public boolean accepted() {
            return status == 200;
        }
    }

    private final List<String> secrets;
    private final Duration tolerance;
    private final SeenIdFile seen;
    private final InstantSource clock;

    /**
     * @param secrets   the senders' secrets (any one may have signed; several during a rotation); empty accepts
     *                  unsigned requests
     * @param tolerance how far a signed request's timestamp may be from now (1 s .. 1 day)
     */
    public WebhookVerifier(List<String> secrets, Duration tolerance, SeenIdFile seen, InstantSource clock) {
        this.secrets = List.copyOf(Objects.requireNonNull(secrets, "secrets"));
        for (String s : this.secrets) {
            WebhookSignature.key(s); // fails on an empty or malformed secret
        }
        Objects.requireNonNull(tolerance, "tolerance");
        if (tolerance.compareTo(Duration.ofSeconds(1)) < 0 || tolerance.compareTo(Duration.ofDays(1)) > 0) {
            throw new IllegalArgumentException("tolerance: " + tolerance.toSeconds() + " s is not allowed; allowed: "
                    + "1..86400 s");
        }
        this.tolerance = tolerance;
        this.seen = Objects.requireNonNull(seen, "seen");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    public boolean checksSignatures() {
        return !secrets.isEmpty();
    }

    public Duration tolerance() {
        return tolerance;
    }

    public Outcome check(TimedHttpServer.Request request) {
        String id = request.header(WebhookSignature.ID_HEADER);
        if (checksSignatures()) {
            WebhookSignature.Verdict v = WebhookSignature.verify(secrets, id,
                    request.header(WebhookSignature.TIMESTAMP_HEADER), request.body(),
                    request.header(WebhookSignature.SIGNATURE_HEADER), clock.instant(), tolerance);
            switch (v) {
                case VALID -> { }
                case MISSING_HEADERS -> {
                    return new Outcome(401, false, "no signature (webhook-id, webhook-timestamp, webhook-signature)");
                }
                case STALE_TIMESTAMP -> {
                    return new Outcome(401, false, "timestamp " + request.header(WebhookSignature.TIMESTAMP_HEADER)
                            + " more than " + tolerance.toSeconds() + " s from now (a replay, or a clock off)");
                }
                default -> {
                    return new Outcome(401, false, "a wrong signature");
                }
            }
        }
        if (id == null && !checksSignatures()) {
            return new Outcome(200, false, null); // e.g. Alertmanager, which neither signs nor sends an id
        }
        if (!SeenIdFile.valid(id)) {
            return new Outcome(400, false, "no usable webhook-id");
        }
        return new Outcome(200, !seen.firstTime(id), null);
    }
}
