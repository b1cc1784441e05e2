package io.grokwatch.detect;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A phase-transition alert.
 *
 * @param type       {@code grokking-onset}, {@code generalization} or {@code spectral-gap}
 * @param confidence in [0, 1]
 * @param evidence   the signals, their values and trends that made it fire
 */
public record Alert(String type, long epoch, long step, double confidence, ObjectNode evidence) {
    public ObjectNode toJson() {
        ObjectNode o = evidence.objectNode();
        o.put("type", type).put("epoch", epoch).put("step", step).put("confidence", confidence);
        o.set("evidence", evidence.deepCopy());
        return o;
    }
}
