package io.grokwatch.analyzer;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.grokwatch.detect.Alert;
import io.grokwatch.detect.DetectorSuite;
import io.grokwatch.model.ModelFormatException;
import io.grokwatch.run.CheckpointMetadata;
import io.grokwatch.run.CheckpointRecord;
import io.grokwatch.run.EigenBases;
import io.grokwatch.run.RunAnalyzer;
import io.grokwatch.run.RunDescriptor;
import io.grokwatch.run.RunFormatException;
import io.grokwatch.safetensors.SafetensorsFormatException;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.apache.kafka.streams.state.KeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;

/**
 * Receives both run descriptors and checkpoints (co-partitioned by run id). Descriptors are validated and
 * kept in a store; each checkpoint is decoded, checked against its run, analysed, and its spectrum
 * forwarded. Per-run state (last analysed step) lives in a changelogged store, so restarts neither lose nor
 * repeat results. Anything that cannot be used goes to the dead-letter topic with its reason and original
 * bytes; nothing stops the processor.
 */
final class CheckpointProcessor implements Processor<String, byte[], String, byte[]> {
    private static final Logger LOG = LoggerFactory.getLogger(CheckpointProcessor.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String runsTopic;
    private final AnalyzerMetrics metrics;
    private final int analysisThreads;
    private final Map<String, CachedAnalyzer> analyzers = new HashMap<>();
    private final DetectorSuite detectors;
    private ProcessorContext<String, byte[]> context;
    private KeyValueStore<String, byte[]> runs;
    private KeyValueStore<String, byte[]> state;
    private KeyValueStore<String, byte[]> bases;

    private record CachedAnalyzer(byte[] descriptor, RunAnalyzer analyzer) {
    }

    CheckpointProcessor(String runsTopic, AnalyzerMetrics metrics, int analysisThreads, DetectorSuite detectors) {
        this.detectors = detectors;
        this.runsTopic = runsTopic;
        this.metrics = metrics;
        this.analysisThreads = analysisThreads;
    }

    @Override
    public void init(ProcessorContext<String, byte[]> context) {
        this.context = context;
        this.runs = context.getStateStore(AnalyzerTopology.RUNS_STORE);
        this.state = context.getStateStore(AnalyzerTopology.RUN_STATE_STORE);
        this.bases = context.getStateStore(AnalyzerTopology.EIGENBASIS_STORE);
    }

    @Override
    public void process(Record<String, byte[]> record) {
        String topic = context.recordMetadata().map(RecordMetadata::topic).orElse("");
        if (topic.equals(runsTopic)) {
            onDescriptor(record);
        } else {
            onCheckpoint(record);
        }
    }

    private void onDescriptor(Record<String, byte[]> record) {
        String runId = record.key();
        if (record.value() == null) {
            if (runId != null) {
                runs.delete(runId);
                bases.delete(runId);
                dropAnalyzer(runId);
            }
            return;
        }
        try {
            RunDescriptor d = RunDescriptor.parse(record.value());
            if (runId == null || !runId.equals(d.runId())) {
                throw new RunFormatException("record key '" + runId + "' differs from the descriptor's runId '"
                        + d.runId() + "'");
            }
            runs.put(runId, record.value());
            LOG.info("run {} registered: model with {} ops, probes {}, kernel {}", runId, d.model().ops().size(),
                    d.probe().name(), d.analysis().kernel().id());
        } catch (RunFormatException e) {
            deadLetter(record, DeadLetterReason.MALFORMED_DESCRIPTOR, e.getMessage());
        }
    }

    private void onCheckpoint(Record<String, byte[]> record) {
        // From the checkpoint being produced to this processor taking it up: the broker, the fetch, and any
        // checkpoints queued before it. The rest of the produce-to-result latency is the analysis.
        double queued = Math.max(0, (System.currentTimeMillis() - record.timestamp()) / 1e3);
        String runId = record.key();
        byte[] descriptorBytes = runId == null ? null : runs.get(runId);
        if (descriptorBytes == null) {
            deadLetter(record, DeadLetterReason.UNKNOWN_RUN, "no run descriptor for run '" + runId + "' on "
                    + runsTopic + "; publish the descriptor before the checkpoints");
            return;
        }
        CheckpointRecord checkpoint;
        try {
            checkpoint = CheckpointRecord.decode(record.value() == null ? new byte[0] : record.value());
        } catch (SafetensorsFormatException e) {
            deadLetter(record, DeadLetterReason.CORRUPT_CHECKPOINT, e.getMessage());
            return;
        } catch (RunFormatException e) {
            deadLetter(record, DeadLetterReason.BAD_METADATA, e.getMessage());
            return;
        }
        RunState previous = RunState.read(state.get(runId));
        CheckpointMetadata meta = checkpoint.metadata();
        if (previous != null && meta.step() <= previous.lastStep()) {
            deadLetter(record, DeadLetterReason.STALE_STEP, "step " + meta.step() + " of run '" + runId
                    + "' is at or before the last analysed step " + previous.lastStep());
            return;
        }
        RunAnalyzer analyzer = analyzer(runId, descriptorBytes);
        RunAnalyzer.Analysis analysis;
        try {
            // The previous checkpoint's eigenbases (warm starts, drift) come from the store, never from memory,
            // so a restarted or replaying analyzer starts each solve from the same numbers.
            analysis = analyzer.analyze(checkpoint.weights(), EigenBases.decode(bases.get(runId)));
        } catch (ModelFormatException e) {
            deadLetter(record, DeadLetterReason.MODEL_MISMATCH, e.getMessage());
            return;
        } catch (ArithmeticException | IllegalArgumentException e) {
            deadLetter(record, DeadLetterReason.ANALYSIS_FAILED, e.getMessage());
            return;
        }
        ObjectNode out = SpectrumRecord.of(runId, meta, analysis, record.timestamp());
        // Produce-to-result latency: from the checkpoint's timestamp to the moment its spectrum is emitted.
        double lag = Math.max(0, (System.currentTimeMillis() - record.timestamp()) / 1e3);
        ((ObjectNode) out.get("timings")).put("producedToResultSeconds", lag).put("queuedSeconds", queued);
        io.grokwatch.detect.Observation observation = SpectrumRecord.observation(meta, analysis);
        DetectorSuite.Step detected = detectors.observe(previous == null || previous.detectors() == null
                ? detectors.initialState() : previous.detectors(), observation);
        state.put(runId, new RunState(meta.step(), meta.epoch(), previous == null ? 1 : previous.analysed() + 1,
                analysis.eigenvalues(), detected.state()).toBytes());
        if (!analysis.bases().isEmpty()) {
            bases.put(runId, EigenBases.encode(analysis.bases()));
        }
        context.forward(new Record<>(runId, toBytes(out), record.timestamp()), AnalyzerTopology.SPECTRA_SINK);
        for (Alert a : detected.alerts()) {
            ObjectNode alert = SpectrumRecord.alert(runId, a);
            context.forward(new Record<>(runId, toBytes(alert), record.timestamp()), AnalyzerTopology.ALERTS_SINK);
            LOG.info("run {}: {} alert at epoch {} (confidence {}): {}", runId, a.type(), a.epoch(),
                    String.format("%.2f", a.confidence()), a.evidence().path("signal").asText());
        }
        metrics.analysed(runId, analysis.seconds(), lag);
        metrics.spectrum(runId, out);
        detected.alerts().forEach(a -> metrics.alert(runId, a));
        LOG.debug("run {} step {} analysed in {} ms: top eigenvalue {}", runId, meta.step(),
                Math.round(analysis.seconds() * 1000), analysis.eigenvalues().length == 0 ? "-"
                        : String.format("%.4g", analysis.eigenvalues()[0]));
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

    private void deadLetter(Record<String, byte[]> record, DeadLetterReason reason, String message) {
        ObjectNode o = JSON.createObjectNode();
        o.put("reason", reason.label()).put("message", message);
        context.recordMetadata().ifPresent(m -> o.put("sourceTopic", m.topic()).put("partition", m.partition())
                .put("offset", m.offset()));
        o.put("key", record.key()).put("timestampMs", record.timestamp());
        o.put("originalBase64", record.value() == null ? null : Base64.getEncoder().encodeToString(record.value()));
        context.forward(new Record<>(record.key(), toBytes(o), record.timestamp()), AnalyzerTopology.DEAD_LETTER_SINK);
        metrics.deadLettered(reason);
        LOG.warn("dead-lettered a record of run {} ({}): {}", record.key(), reason.label(), message);
    }

    private static byte[] toBytes(ObjectNode o) {
        try {
            return JSON.writeValueAsBytes(o);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        analyzers.values().forEach(c -> c.analyzer().close());
        analyzers.clear();
    }
}
