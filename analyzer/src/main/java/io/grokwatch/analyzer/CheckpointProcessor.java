package io.grokwatch.analyzer;

import io.grokwatch.detect.Alert;
import io.grokwatch.detect.DetectorSuite;
import io.grokwatch.model.ModelFormatException;
import io.grokwatch.run.CheckpointMetadata;
import io.grokwatch.run.CheckpointRecord;
import io.grokwatch.run.EigenBases;
import io.grokwatch.run.RunAnalyzer;
import io.grokwatch.run.RunDescriptor;
import io.grokwatch.run.RunFormatException;
import io.grokwatch.run.RunLimitException;
import io.grokwatch.detect.StalledRule;
import io.grokwatch.records.AlertRecord;
import io.grokwatch.records.RecordFormatException;
import io.grokwatch.records.RunEndRecord;
import io.grokwatch.records.Evidence;
import io.grokwatch.records.SpectrumRecord;
import io.grokwatch.safetensors.SafetensorsFormatException;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Receives both run descriptors and checkpoints (co-partitioned by run id). Descriptors are validated and
 * kept in a store; each checkpoint is decoded, checked against its run, analysed, and its spectrum
 * forwarded. Per-run state (last analysed step) lives in a changelogged store, so restarts neither lose nor
 * repeat results. Anything that cannot be used goes to the dead-letter topic with its reason and original
 * bytes (or, past {@link AnalyzerLimits#deadLetterOriginalBytes()}, their digest; {@link DeadLetter}).
 *
 * <p>Each record is a failure boundary: whatever analysing it throws, an {@link OutOfMemoryError} included, sends it
 * to the dead-letter topic ({@code analysis-failed}, naming the exception) and the stream goes on; before, one such
 * record made Streams replace the thread and retry it forever, stalling every run on its partition. A
 * {@link KafkaException} (the broker, a state store, a fenced producer) is not about the record and still fails the
 * task. An analysis writes nothing until it has succeeded, so one that fails leaves no partial state.
 *
 * <p>Under {@link Backlog#ALL} a checkpoint is analysed as it arrives. Under {@link Backlog#LATEST} it waits in the
 * changelogged pending store (one per run) until the input that arrived meanwhile has been admitted; a newer
 * checkpoint of the same run takes its place, and the newest is analysed.
 *
 * <p>Time comes from two clocks, both the system's in production. The stream thread's (the context's system time and
 * its wall-clock punctuations) says when a run's input has drained. The injected wall clock, the one producers stamp
 * checkpoints with, decides whether a checkpoint is fresh, which waiting one a newer checkpoint supersedes, the
 * latencies a spectrum reports and which runs still count towards the analyzer's load. Only the service time of a
 * checkpoint is measured with {@link System#nanoTime()}: it times the work itself.
 */
final class CheckpointProcessor implements Processor<String, byte[], String, Object> {
    private static final Logger LOG = LoggerFactory.getLogger(CheckpointProcessor.class);
    /** How often waiting checkpoints are looked at (at most once per batch of input, whatever this says). */
    static final Duration PENDING_INTERVAL = Duration.ofMillis(1);
    /**
     * Under {@link Backlog#LATEST}, a checkpoint produced at most this long before it is taken up is analysed at once
     * (above what loopback delivery takes; docs/benchmarks.md); an older one waits until the input has drained, in case
     * a newer one of its run is queued behind it. Clock skew between producer and analyzer only moves checkpoints from
     * one path to the other.
     */
    static final Duration FRESH = Duration.ofMillis(50);
    /**
     * Under {@link Backlog#LATEST}, a waiting checkpoint is analysed once no newer one of its run has been admitted for
     * this long: longer than a fetch waits at the broker (50 ms), so one in flight when the last batch was taken in
     * has landed. Measured without it: a checkpoint that had just been superseded at the broker was analysed.
     */
    static final Duration QUIET = Duration.ofMillis(60);
    /** How often the runs of a task are checked for having gone quiet ({@link io.grokwatch.detect.StalledRule}). */
    static final Duration STALL_CHECK = Duration.ofSeconds(5);

    private final String runsTopic;
    private final AnalyzerMetrics metrics;
    private final int analysisThreads;
    private final Map<String, CachedAnalyzer> analyzers = new HashMap<>();
    private final DetectorSuite detectors;
    private final Backlog backlog;
    private final AnalyzerLimits limits;
    /** The summed load of the runs this analyzer serves, shared by all its tasks. */
    private final AnalyzerLoad load;
    /** The wall clock that checkpoints' timestamps are compared with. */
    private final InstantSource clock;
    /** The pending store's contents, so that admitting a checkpoint reads and decodes none of it. */
    private final Map<String, Waiting> waiting = new HashMap<>();
    private final TaskVerdicts verdicts;
    private ProcessorContext<String, Object> context;
    private KeyValueStore<String, byte[]> runs;
    private KeyValueStore<String, byte[]> state;
    private KeyValueStore<String, byte[]> bases;
    private KeyValueStore<String, byte[]> pending;

    private record CachedAnalyzer(byte[] descriptor, RunAnalyzer analyzer) {
    }

    /**
     * A checkpoint in the pending store, with when it was taken up: on the stream thread's clock (its run's input has
     * drained once that is {@link #QUIET} ago) and on the wall clock that producers stamp checkpoints with (only one
     * produced before then was queued behind it and may supersede it). Both 0 for one restored on start: it goes first.
     */
    private record Waiting(PendingCheckpoint checkpoint, long takenUpStreamMs, long takenUpWallMs) {
    }

    CheckpointProcessor(String runsTopic, AnalyzerTopology.Settings settings, AnalyzerLoad load) {
        this.limits = settings.limits();
        this.load = java.util.Objects.requireNonNull(load, "load");
        this.clock = settings.clock();
        this.detectors = settings.detectors();
        this.backlog = settings.backlog();
        this.runsTopic = java.util.Objects.requireNonNull(runsTopic, "runsTopic");
        this.metrics = settings.metrics();
        this.analysisThreads = settings.analysisThreads();
        this.verdicts = new TaskVerdicts(metrics);
    }

    @Override
    public void init(ProcessorContext<String, Object> context) {
        this.context = context;
        this.runs = context.getStateStore(AnalyzerTopology.RUNS_STORE);
        this.state = context.getStateStore(AnalyzerTopology.RUN_STATE_STORE);
        this.bases = context.getStateStore(AnalyzerTopology.EIGENBASIS_STORE);
        this.pending = context.getStateStore(AnalyzerTopology.PENDING_STORE);
        try (KeyValueIterator<String, byte[]> it = pending.all()) {
            it.forEachRemaining(kv -> waiting.put(kv.key, new Waiting(PendingCheckpoint.decode(kv.value), 0, 0)));
        }
        verdicts.restore(state);
        // Runs between batches of input, and on an idle poll: what waits there once the input has drained is the
        // newest checkpoint of its run.
        context.schedule(PENDING_INTERVAL, PunctuationType.WALL_CLOCK_TIME, this::analyseDrained);
        context.schedule(STALL_CHECK, PunctuationType.WALL_CLOCK_TIME, now -> reportStalled());
    }

    @Override
    public void process(Record<String, byte[]> record) {
        String topic = context.recordMetadata().map(RecordMetadata::topic).orElse("");
        try {
            if (topic.equals(runsTopic)) {
                onDescriptor(record);
            } else if (isRunEnd(record)) {
                onRunEnd(record);
            } else {
                onCheckpoint(record);
            }
        } catch (KafkaException e) {
            throw e; // the broker, a store, the producer: not this record's fault, and retrying it may succeed
        } catch (RuntimeException | OutOfMemoryError e) {
            // The heap running out here (decoding a checkpoint, parsing a descriptor) is this record's doing as much
            // as in its analysis (see analyse): retried, it would fail again, across restarts too.
            deadLetter(ReceivedRecord.of(record, context.recordMetadata()), DeadLetterReason.ANALYSIS_FAILED,
                    describe(e));
        }
    }

    /** What a dead letter says of an exception: its class, for a bug that has no message, and its message. */
    static String describe(Throwable e) {
        return e.getClass().getName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
    }

    private void onDescriptor(Record<String, byte[]> record) {
        String runId = record.key();
        if (record.value() == null) {
            if (runId != null) {
                // A deleted run is forgotten, its last step included: published again, it starts afresh (the way
                // out for a run whose state an earlier version let a wild step wedge).
                runs.delete(runId);
                state.delete(runId);
                bases.delete(runId);
                pending.delete(runId);
                waiting.remove(runId);
                load.forget(runId);
                verdicts.forget(runId);
                dropAnalyzer(runId);
            }
            return;
        }
        RunDescriptor d;
        try {
            d = limits.run().parse(record.value());
        } catch (RunLimitException e) {
            deadLetter(ReceivedRecord.of(record, context.recordMetadata()), DeadLetterReason.OVER_LIMIT,
                    e.getMessage());
            return;
        } catch (RunFormatException e) {
            deadLetter(ReceivedRecord.of(record, context.recordMetadata()), DeadLetterReason.MALFORMED_DESCRIPTOR,
                    e.getMessage());
            return;
        } catch (OutOfMemoryError e) {
            // A record on the compacted runs topic cannot be deleted: retried, it would fail every restart for good.
            // What the parse allocated is garbage once it has unwound, so the heap is free again.
            deadLetter(ReceivedRecord.of(record, context.recordMetadata()), DeadLetterReason.ANALYSIS_FAILED,
                    describe(e));
            return;
        }
        if (runId == null || !runId.equals(d.runId())) {
            deadLetter(ReceivedRecord.of(record, context.recordMetadata()), DeadLetterReason.MALFORMED_DESCRIPTOR,
                    "record key '" + runId + "' differs from the descriptor's runId '" + d.runId() + "'");
            return;
        }
        runs.put(runId, record.value());
        LOG.info("run {} registered: {}, probes {}, kernel {}", runId, d.model().summary(),
                d.probe().name(), d.analysis().kernel().id());
    }

    private static boolean isRunEnd(Record<String, byte[]> record) {
        org.apache.kafka.common.header.Header h = record.headers().lastHeader(RunEndRecord.HEADER);
        return h != null && RunEndRecord.HEADER_VALUE.equals(new String(h.value(),
                java.nio.charset.StandardCharsets.UTF_8));
    }

    /**
     * The run has ended: a checkpoint of it still waiting is analysed first (it is the run's last), then its alerts are
     * sent again as resolved and it is no longer expected to checkpoint. A later checkpoint opens the run again.
     */
    private void onRunEnd(Record<String, byte[]> record) {
        ReceivedRecord received = ReceivedRecord.of(record, context.recordMetadata());
        String runId = received.key();
        if (runId == null || runs.get(runId) == null) {
            deadLetter(received, DeadLetterReason.UNKNOWN_RUN, "the end of run '" + runId + "', which has no "
                    + "descriptor on " + runsTopic);
            return;
        }
        RunEndRecord end;
        try {
            end = RunEndRecord.read(received.value());
        } catch (RecordFormatException e) {
            deadLetter(received, DeadLetterReason.BAD_METADATA, "unreadable run end: " + e.getMessage());
            return;
        }
        if (!runId.equals(end.runId())) {
            deadLetter(received, DeadLetterReason.BAD_METADATA, "record key '" + runId + "' differs from the run "
                    + "end's runId '" + end.runId() + "'");
            return;
        }
        Waiting queued = waiting.remove(runId);
        if (queued != null) {
            pending.delete(runId);
            analyse(queued.checkpoint(), null);
        }
        RunState before = RunState.read(state.get(runId));
        RunState.End e = new RunState.End(end.status(), received.timestampMs(), end.lastStep());
        RunState after = before == null ? RunState.endedUnanalysed(e) : before.ended(e);
        state.put(runId, after.toBytes());
        verdicts.update(runId, after);
        int resolved = 0;
        if (before != null) {
            Evidence why = Evidence.of("the run ended (" + end.status() + ")").put("status", end.status())
                    .put("lastStep", end.lastStep()).build();
            for (var mark : before.alerts().entrySet()) {
                forwardResolved(runId, mark.getKey(), mark.getValue(), why, received.timestampMs());
                resolved++;
            }
        }
        metrics.ended(runId, end.status());
        LOG.info("run {} ended ({}) after step {}; {} alert type{} resolved", runId, end.status(), end.lastStep(),
                resolved, resolved == 1 ? "" : "s");
    }

    private void forwardResolved(String runId, String type, RunVerdict.Mark mark, Evidence why, long timestampMs) {
        AlertRecord resolved = new AlertRecord(AlertRecord.SCHEMA_VERSION, runId, type, mark.epoch(), mark.step(), 1.0,
                why, AlertRecord.RESOLVED);
        context.forward(new Record<>(runId, resolved, timestampMs), AnalyzerTopology.ALERTS_SINK);
    }

    /**
     * Raises {@code stalled} for each run of this task that has gone quiet without saying it ended (once per silence;
     * see {@link StalledRule}).
     */
    private void reportStalled() {
        StalledRule rule = detectors.stalled();
        long now = clock.millis();
        List<String> quiet = new ArrayList<>();
        try (KeyValueIterator<String, byte[]> it = state.all()) {
            while (it.hasNext()) {
                var kv = it.next();
                RunState s = RunState.read(kv.value);
                if (s == null || s.end() != null || s.stalled() || s.pace() == null || waiting.containsKey(kv.key)) {
                    continue;
                }
                RunPace p = s.pace();
                rule.check(now, p.lastTimestampMs(), p.known() ? p.intervalSeconds() : Double.NaN, s.lastEpoch(),
                        s.lastStep()).ifPresent(alert -> {
                            state.put(kv.key, s.withStalled(true).withAlerts(s, List.of(alert)).toBytes());
                            context.forward(new Record<>(kv.key, record(kv.key, alert), now),
                                    AnalyzerTopology.ALERTS_SINK);
                            metrics.alert(kv.key, alert);
                            quiet.add(kv.key);
                            LOG.warn("run {}: stalled: no checkpoint for {} s (its last at step {})", kv.key,
                                    Math.round(alert.evidence().number("silentSeconds")), s.lastStep());
                        });
            }
        }
        quiet.forEach(runId -> verdicts.update(runId, RunState.read(state.get(runId))));
    }

    private void onCheckpoint(Record<String, byte[]> record) {
        ReceivedRecord received = ReceivedRecord.of(record, context.recordMetadata());
        CheckpointRecord decoded = admissible(received);
        if (decoded == null) {
            return;
        }
        String runId = received.key();
        PendingCheckpoint admitted = new PendingCheckpoint(received, decoded.metadata().step(), 0);
        Waiting queued = waiting.remove(runId);
        if (queued != null) {
            pending.delete(runId);
        }
        if (backlog == Backlog.ALL) {
            // Left over from a run under LATEST: it comes first, so the run's steps stay in order.
            if (queued != null) {
                analyse(queued.checkpoint(), null);
            }
            analyse(admitted, decoded);
            return;
        }
        if (queued != null && received.timestampMs() > queued.takenUpWallMs()) {
            // Produced after the waiting one was taken up, so not queued behind it: that one was the newest there
            // was and is analysed first (at start-up, a slow first analysis otherwise cost a checkpoint of a run
            // that was keeping up).
            analyse(queued.checkpoint(), null);
            queued = null;
        }
        if (queued != null) {
            PendingCheckpoint older = queued.checkpoint();
            admitted = admitted.superseding(older);
            metrics.superseded(runId);
            LOG.debug("run {}: step {} supersedes step {}, which was still waiting", runId, admitted.step(),
                    older.step());
        }
        if (clock.millis() - received.timestampMs() <= FRESH.toMillis()) {
            // Produced just now: nothing newer of this run can be queued behind it.
            analyse(admitted, decoded);
            return;
        }
        pending.put(runId, admitted.encode());
        waiting.put(runId, new Waiting(admitted, context.currentSystemTimeMs(), clock.millis()));
    }

    /**
     * The checks that need no analysis: a known run, readable safetensors and metadata, a step after every step of
     * the run already analysed or waiting. Null when the record went to the dead-letter topic.
     */
    private CheckpointRecord admissible(ReceivedRecord received) {
        String runId = received.key();
        if (runId == null || runs.get(runId) == null) {
            deadLetter(received, DeadLetterReason.UNKNOWN_RUN, "no run descriptor for run '" + runId + "' on "
                    + runsTopic + "; publish the descriptor before the checkpoints");
            return null;
        }
        CheckpointRecord decoded;
        try {
            decoded = CheckpointRecord.decode(received.value());
        } catch (SafetensorsFormatException e) {
            deadLetter(received, DeadLetterReason.CORRUPT_CHECKPOINT, e.getMessage());
            return null;
        } catch (RunFormatException e) {
            deadLetter(received, DeadLetterReason.BAD_METADATA, e.getMessage());
            return null;
        }
        CheckpointMetadata meta = decoded.metadata();
        RunState previous = RunState.read(state.get(runId));
        long lastAccepted = Math.max(previous == null ? 0 : previous.lastStep(),
                waiting.containsKey(runId) ? waiting.get(runId).checkpoint().step() : 0);
        if (meta.step() - lastAccepted > limits.maxStepJump()) {
            // Accepted, such a step would make every later checkpoint of the run stale.
            deadLetter(received, DeadLetterReason.STEP_JUMP, "step " + meta.step() + " of run '" + runId + "' is "
                    + (meta.step() - lastAccepted) + " steps beyond " + (previous == null && !waiting.containsKey(runId)
                    ? "0 (its first checkpoint)" : "its last accepted step " + lastAccepted) + "; at most "
                    + limits.maxStepJump() + " are allowed (" + AnalyzerLimits.MAX_STEP_JUMP + ")");
            return null;
        }
        if (previous != null && meta.step() <= previous.lastStep()) {
            deadLetter(received, DeadLetterReason.STALE_STEP, "step " + meta.step() + " of run '" + runId
                    + "' is at or before the last analysed step " + previous.lastStep());
            return null;
        }
        PendingCheckpoint queued = waiting.containsKey(runId) ? waiting.get(runId).checkpoint() : null;
        if (queued != null && meta.step() <= queued.step()) {
            deadLetter(received, DeadLetterReason.STALE_STEP, "step " + meta.step() + " of run '" + runId
                    + "' is at or before step " + queued.step() + ", which waits for its analysis");
            return null;
        }
        return decoded;
    }

    /**
     * Analyses each waiting checkpoint whose run's input has drained: no newer checkpoint of the run was admitted for
     * {@link #QUIET}, so whatever arrived during the last analysis has been taken in.
     */
    private void analyseDrained(long now) {
        if (waiting.isEmpty()) {
            return;
        }
        for (String runId : List.copyOf(waiting.keySet())) {
            if (now - waiting.get(runId).takenUpStreamMs() < QUIET.toMillis()) {
                continue;
            }
            PendingCheckpoint p = waiting.remove(runId).checkpoint();
            pending.delete(runId);
            analyse(p, null);
        }
    }

    /**
     * Analyses one checkpoint, the failure boundary of its record: a failure of the analysis dead-letters it and
     * nothing of it is stored.
     *
     * @param decoded the checkpoint's weights if already decoded, else null
     */
    private void analyse(PendingCheckpoint admitted, CheckpointRecord decoded) {
        ReceivedRecord received = admitted.record();
        String runId = received.key();
        Analysed done;
        try {
            done = analysed(admitted, decoded);
        } catch (KafkaException e) {
            throw e;
        } catch (io.grokwatch.model.NonFiniteWeightsException e) {
            deadLetter(received, DeadLetterReason.NON_FINITE_WEIGHTS, e.getMessage());
            nonFiniteAlert(admitted, decoded, e.getMessage());
            return;
        } catch (ModelFormatException e) {
            deadLetter(received, DeadLetterReason.MODEL_MISMATCH, e.getMessage());
            return;
        } catch (RunLimitException e) {
            deadLetter(received, DeadLetterReason.OVER_LIMIT, e.getMessage());
            return;
        } catch (UnknownRunException e) {
            deadLetter(received, DeadLetterReason.UNKNOWN_RUN, e.getMessage());
            return;
        } catch (RuntimeException e) {
            // Also an OutOfMemoryError of an analysis thread, wrapped: the cached analyzer is rebuilt either way.
            dropAnalyzer(runId);
            LOG.error("analysis of a checkpoint of run {} failed", runId, e);
            deadLetter(received, DeadLetterReason.ANALYSIS_FAILED, describe(e));
            return;
        } catch (OutOfMemoryError | StackOverflowError e) {
            // Caught here only, around the analysis, which writes nothing: the heap ran out in one of its large
            // allocations (kernels, Jacobian factors), all of them garbage once the stack has unwound, so the thread
            // goes on with the heap it had. Retrying would fail the same way forever. The run's cached analyzer
            // may hold half-built buffers: it is dropped and built afresh for the next checkpoint. The run limits
            // are what keep this from happening; this keeps one record that slips past them from stalling all.
            dropAnalyzer(runId);
            LOG.error("analysis of a checkpoint of run {} ran out of {}; dead-lettered", runId,
                    e instanceof OutOfMemoryError ? "memory" : "stack", e);
            deadLetter(received, DeadLetterReason.ANALYSIS_FAILED, describe(e));
            return;
        }
        store(admitted, done);
    }

    /** Everything one checkpoint's analysis produces, before any of it is stored or sent. */
    private record Analysed(CheckpointMetadata meta, RunAnalyzer.Analysis analysis, SpectrumRecord spectrum,
                            DetectorSuite.Step detected, byte[] bases, RunState state, RunState previous) {
    }

    private Analysed analysed(PendingCheckpoint admitted, CheckpointRecord decoded) {
        long started = System.nanoTime();
        ReceivedRecord received = admitted.record();
        String runId = received.key();
        // From the checkpoint being produced to its analysis starting: the broker, the fetch, and any checkpoints
        // analysed before it. The rest of the produce-to-result latency is the analysis.
        double queued = Math.max(0, (clock.millis() - received.timestampMs()) / 1e3);
        byte[] descriptorBytes = runs.get(runId);
        if (descriptorBytes == null) {
            throw new UnknownRunException("run '" + runId + "' was deleted from " + runsTopic
                    + " while its checkpoint waited");
        }
        CheckpointRecord checkpoint = decoded != null ? decoded : CheckpointRecord.decode(received.value());
        CheckpointMetadata meta = checkpoint.metadata();
        RunState previous = RunState.read(state.get(runId));
        RunAnalyzer analyzer = analyzer(runId, descriptorBytes);
        // Also for a descriptor stored before these limits applied.
        limits.run().check(analyzer.descriptor());
        limits.run().checkCheckpoint(analyzer.descriptor(), checkpoint.weights());
        // The previous checkpoint's eigenbases (warm starts, drift) come from the store, never from memory,
        // so a restarted or replaying analyzer starts each solve from the same numbers.
        RunAnalyzer.Analysis analysis = analyzer.analyze(checkpoint.weights(), EigenBases.decode(bases.get(runId)));
        SpectrumRecord out = analysis.record(runId, meta, received.timestampMs()).withSuperseded(admitted.superseded());
        // Produce-to-result latency: from the checkpoint's timestamp to the moment its spectrum is emitted.
        double lag = Math.max(0, (clock.millis() - received.timestampMs()) / 1e3);
        out = out.withTimings(out.timings().withLatencies(lag, queued));
        DetectorSuite.Step detected = detectors.observe(previous == null || previous.detectors() == null
                ? detectors.initialState() : previous.detectors(), analysis.observation(meta));
        byte[] basesBytes = null;
        if (!analysis.bases().isEmpty()) {
            basesBytes = EigenBases.encode(analysis.bases());
            limits.run().checkState(runId, basesBytes.length);
        }
        Paced paced = pace(runId, previous, received.timestampMs(), meta.epoch(), admitted.superseded(),
                (System.nanoTime() - started) / 1e9);
        out = out.withPace(paced.reported());
        RunState next = new RunState(meta.step(), meta.epoch(), previous == null ? 1 : previous.analysed() + 1,
                (previous == null ? 0 : previous.superseded()) + admitted.superseded(), analysis.eigenvalues(),
                detected.state(), paced.pace()).withAlerts(previous, detected.alerts());
        return new Analysed(meta, analysis, out, detected, basesBytes, next, previous);
    }

    /** Stores a successful analysis and sends its spectrum and alerts; failures here are the pipeline's, not the record's. */
    private void store(PendingCheckpoint admitted, Analysed done) {
        ReceivedRecord received = admitted.record();
        String runId = received.key();
        CheckpointMetadata meta = done.meta();
        RunAnalyzer.Analysis analysis = done.analysis();
        SpectrumRecord out = done.spectrum();
        if (done.bases() != null) {
            bases.put(runId, done.bases());
        }
        state.put(runId, done.state().toBytes());
        verdicts.update(runId, done.state());
        context.forward(new Record<>(runId, out, received.timestampMs()), AnalyzerTopology.SPECTRA_SINK);
        if (done.previous() != null && done.previous().stalled()) {
            // Checkpoints again: the silence is over.
            RunVerdict.Mark mark = done.previous().alerts().getOrDefault(StalledRule.NAME,
                    new RunVerdict.Mark(done.previous().lastEpoch(), done.previous().lastStep()));
            forwardResolved(runId, StalledRule.NAME, mark, Evidence.of("checkpoints arrive again")
                    .put("step", meta.step()).build(), received.timestampMs());
            LOG.info("run {}: checkpoints again (step {}); stalled resolved", runId, meta.step());
        }
        for (Alert a : done.detected().alerts()) {
            context.forward(new Record<>(runId, record(runId, a), received.timestampMs()),
                    AnalyzerTopology.ALERTS_SINK);
            LOG.info("run {}: {} alert at epoch {} (confidence {}): {}", runId, a.type(), a.epoch(),
                    String.format("%.2f", a.confidence()), a.evidence().signal());
        }
        metrics.analysed(runId, analysis.seconds(), out.timings().producedToResultSeconds());
        metrics.spectrum(runId, out);
        done.detected().alerts().forEach(a -> metrics.alert(runId, a));
        if (admitted.superseded() > 0) {
            LOG.info("run {} step {}: analysed the newest checkpoint; {} older ones were superseded while the analyzer "
                    + "was busy (backlog=latest; grokwatch replay analyses every one)", runId, meta.step(),
                    admitted.superseded());
        }
        LOG.debug("run {} step {} analysed in {} ms: top eigenvalue {}", runId, meta.step(),
                Math.round(analysis.seconds() * 1000), analysis.eigenvalues().length == 0 ? "-"
                        : String.format("%.4g", analysis.eigenvalues()[0]));
    }

    /** A run deleted while its checkpoint waited: dead-lettered as an unknown run. */
    private static final class UnknownRunException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        UnknownRunException(String message) {
            super(message);
        }
    }

    /** A run's pace to store, and what its spectrum reports of it (null before there is an interval). */
    private record Paced(RunPace pace, SpectrumRecord.Pace reported) {
    }

    /**
     * The run's pace after this checkpoint, judged with the other runs the analyzer serves, for the spectrum's
     * {@code pace} field; logged when the analyzer falls behind the run and when it catches up again.
     */
    private Paced pace(String runId, RunState previous, long timestampMs, long epoch, long superseded,
                       double serviceSeconds) {
        if (previous == null || previous.pace() == null) {
            return new Paced(RunPace.first(timestampMs, epoch), null);
        }
        RunPace before = previous.pace();
        RunPace next = before.next(timestampMs, epoch, superseded, serviceSeconds);
        if (!next.known()) {
            return new Paced(next, null);
        }
        AnalyzerLoad.Total total = load.record(runId, next, clock.millis());
        RunPace after = next.judged(total);
        if (after.behind() && !before.behind()) {
            LOG.warn("run {} outpaces the analyzer: {}", runId, after.describe(backlog, total));
        } else if (!after.behind() && before.behind()) {
            LOG.info("run {}: the analyzer keeps up again: {}", runId, after.describe(backlog, total));
        }
        return new Paced(after, after.reported(total));
    }

    private RunAnalyzer analyzer(String runId, byte[] descriptorBytes) {
        CachedAnalyzer cached = analyzers.get(runId);
        if (cached != null && Arrays.equals(cached.descriptor(), descriptorBytes)) {
            return cached.analyzer();
        }
        dropAnalyzer(runId);
        RunAnalyzer a = new RunAnalyzer(RunDescriptor.parse(descriptorBytes), analysisThreads);
        analyzers.put(runId, new CachedAnalyzer(descriptorBytes, a));
        return a;
    }

    private void dropAnalyzer(String runId) {
        CachedAnalyzer old = analyzers.remove(runId);
        if (old != null) {
            old.analyzer().close();
        }
    }

    /**
     * The run's training has blown up: besides the dead letter, a {@code non-finite} alert on the alerts topic (and
     * so a webhook, a dashboard annotation and a live-page marker), at the checkpoint's epoch when its metadata
     * can be read.
     */
    private void nonFiniteAlert(PendingCheckpoint admitted, CheckpointRecord decoded, String message) {
        ReceivedRecord received = admitted.record();
        long epoch = admitted.step();
        try {
            CheckpointRecord c = decoded != null ? decoded : CheckpointRecord.decode(received.value());
            epoch = c.metadata().epoch();
        } catch (RuntimeException e) {
            LOG.debug("run {}: no epoch in the non-finite checkpoint's metadata; using its step", received.key(), e);
        }
        Evidence evidence = Evidence.of("the checkpoint's weights are not all finite").put("detail", message).build();
        Alert alert = new Alert(NON_FINITE, epoch, admitted.step(), 1.0, evidence);
        context.forward(new Record<>(received.key(), record(received.key(), alert), received.timestampMs()),
                AnalyzerTopology.ALERTS_SINK);
        metrics.alert(received.key(), alert);
        LOG.warn("run {}: non-finite alert at step {}: {}", received.key(), admitted.step(), message);
    }

    /** The alert type of a checkpoint with NaN or infinite weights. */
    static final String NON_FINITE = "non-finite";

    private void deadLetter(ReceivedRecord record, DeadLetterReason reason, String message) {
        context.forward(new Record<>(record.key(), DeadLetter.of(record, reason, message,
                limits.deadLetterOriginalBytes()), record.timestampMs()), AnalyzerTopology.DEAD_LETTER_SINK);
        metrics.deadLettered(reason);
        LOG.warn("dead-lettered a record of run {} ({}): {}", record.key(), reason.label(), message);
    }

    /** The alerts topic's record of an alert of run {@code runId}. */
    static AlertRecord record(String runId, Alert a) {
        return new AlertRecord(runId, a.type(), a.epoch(), a.step(), a.confidence(), a.evidence());
    }

    @Override
    public void close() {
        verdicts.release();
        analyzers.values().forEach(c -> c.analyzer().close());
        analyzers.clear();
    }
}
