package io.grokwatch.model;

import io.grokwatch.linalg.Matrix;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Parsing and validation of grokwatch.model/v1: every error is one line naming the op, tensor and shapes. */
class ModelDescriptionTest {
    private static final String HEAD = "{\"format\":\"grokwatch.model/v1\",\"inputs\":4,\"ops\":[";

    private static ModelFormatException parseError(String json) {
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> ModelDescription.parse(json));
        assertTrue(!e.getMessage().contains("\n"), "one line: " + e.getMessage());
        return e;
    }

    @Test
    void paperModelsRoundTripThroughJson() {
        for (ModelDescription d : new ModelDescription[] {ModelDescription.modularAddition(29, 512),
                ModelDescription.tms(50)}) {
            assertEquals(d, ModelDescription.parse(d.toJsonString()));
        }
        ModelDescription ma = ModelDescription.modularAddition(29, 512);
        assertEquals(java.util.List.of("net.0", "net.3"), ma.groups());
        assertEquals(java.util.List.of("W", "b"), ModelDescription.tms(50).groups());
    }

    @Test
    void malformedDescriptionsNameTheProblem() {
        assertTrue(parseError("{\"inputs\":4,\"ops\":[]}").getMessage().contains("\"format\""));
        assertTrue(parseError("{\"format\":\"grokwatch.model/v1\",\"inputs\":-1,\"ops\":[{\"op\":\"relu\"}]}")
                .getMessage().contains("\"inputs\""));
        assertTrue(parseError(HEAD + "{\"op\":\"relu\"},{\"op\":\"conv\"}]}").getMessage()
                .startsWith("op 1 (conv): unknown op 'conv'"));
        assertTrue(parseError(HEAD + "{\"op\":\"linear\"}]}").getMessage().contains("op 0 (linear): missing \"weight\""));
        assertTrue(parseError(HEAD + "{\"op\":\"scale\",\"factor\":\"x\"}]}").getMessage().contains("op 0 (scale)"));
        assertTrue(parseError(HEAD + "{\"op\":\"relu\",\"extra\":1}]}").getMessage().contains("unknown field \"extra\""));
        assertTrue(parseError(HEAD + "{\"op\":\"linear\",\"weight\":\"w\",\"transpose\":\"yes\"}]}").getMessage()
                .contains("true or false"));
        assertTrue(parseError("not json").getMessage().startsWith("model description is not valid JSON"));
    }

    @Test
    void shapeChainIsCheckedAgainstTheTensors() {
        ModelDescription d = ModelDescription.parse(HEAD + "{\"op\":\"linear\",\"weight\":\"a.weight\","
                + "\"bias\":\"a.bias\"},{\"op\":\"relu\"},{\"op\":\"linear\",\"weight\":\"b.weight\"}]}");
        int[] w = d.widths(Map.of("a.weight", new long[] {8, 4}, "a.bias", new long[] {8}, "b.weight", new long[] {3, 8}));
        assertArrayEquals(new int[] {4, 8, 8, 3}, w);

        ModelFormatException missing = assertThrows(ModelFormatException.class,
                () -> d.widths(Map.of("a.weight", new long[] {8, 4}, "a.bias", new long[] {8})));
        assertTrue(missing.getMessage().startsWith("op 2 (linear): tensor 'b.weight' is missing"), missing.getMessage());

        ModelFormatException chain = assertThrows(ModelFormatException.class, () -> d.widths(Map.of(
                "a.weight", new long[] {8, 4}, "a.bias", new long[] {8}, "b.weight", new long[] {3, 7})));
        assertTrue(chain.getMessage().contains("op 2 (linear)") && chain.getMessage().contains("[3, 7]")
                && chain.getMessage().contains("width 7") && chain.getMessage().contains("width 8"), chain.getMessage());

        ModelFormatException bias = assertThrows(ModelFormatException.class, () -> d.widths(Map.of(
                "a.weight", new long[] {8, 4}, "a.bias", new long[] {7}, "b.weight", new long[] {3, 8})));
        assertTrue(bias.getMessage().contains("op 0 (linear): bias 'a.bias' must have shape [8], got [7]"),
                bias.getMessage());
    }

    @Test
    void tiedTransposedWeightsChainBothWays() {
        assertArrayEquals(new int[] {50, 10, 50, 50, 50},
                ModelDescription.tms(50).widths(Map.of("W", new long[] {10, 50}, "b", new long[] {50})));
    }

    @Test
    void nonFiniteWeightsAreReported() {
        Parameters p = new Parameters().putMatrix("w", new Matrix(1, 2, new double[] {1.0, Double.NaN}));
        assertEquals("tensor 'w' has NaN at flat index 1", p.firstNonFinite());
    }
}
