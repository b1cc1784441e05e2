package io.grokwatch.graph;

import java.util.Map;

/** Softmax, LogSoftmax, reductions over axes, and LayerNormalization. */
final class NormalizationOps {
    private NormalizationOps() {
    }

    static void register(Map<String, GraphOp> ops) {
        ops.put("Softmax", new SoftmaxOp(false));
        ops.put("LogSoftmax", new SoftmaxOp(true));
        ops.put("ReduceMean", new ReduceOp(true));
        ops.put("ReduceSum", new ReduceOp(false));
        ops.put("LayerNormalization", new LayerNormOp());
    }

    /** Splits a shape at an axis: the product before it, its length, the product after it. */
    private record Split3(int outer, int len, int inner) {
        static Split3 of(int[] shape, int axis) {
            int outer = 1;
            for (int i = 0; i < axis; i++) {
                outer *= shape[i];
            }
            int inner = 1;
            for (int i = axis + 1; i < shape.length; i++) {
                inner *= shape[i];
            }
            return new Split3(outer, shape[axis], inner);
        }
    }

    static final class SoftmaxOp implements GraphOp {
        private final boolean log;

        SoftmaxOp(boolean log) {
            this.log = log;
        }

        @Override
        public NdArray[] forward(Node node, NdArray[] in) {
            NdArray x = in[0];
            int axis = Shapes.axis(node.intAttr("axis", -1), x.rank(), node.label());
            Split3 s = Split3.of(x.dims(), axis);
            double[] xd = x.data();
            double[] y = new double[xd.length];
            for (int o = 0; o < s.outer(); o++) {
                for (int j = 0; j < s.inner(); j++) {
                    int base = o * s.len() * s.inner() + j;
                    double max = Double.NEGATIVE_INFINITY;
                    for (int i = 0; i < s.len(); i++) {
                        max = Math.max(max, xd[base + i * s.inner()]);
                    }
                    double sum = 0;
                    for (int i = 0; i < s.len(); i++) {
                        sum += Math.exp(xd[base + i * s.inner()] - max);
                    }
                    double logSum = max + Math.log(sum);
                    for (int i = 0; i < s.len(); i++) {
                        int at = base + i * s.inner();
                        y[at] = log ? xd[at] - logSum : Math.exp(xd[at] - logSum);
                    }
                }
            }
            return new NdArray[] {new NdArray(x.dims(), y)};
        }

        @Override
        public boolean differentiable(Node node, int i) {
            return true;
        }

        /**
         * Softmax: {@code d = p * (v - sum(p v))}; LogSoftmax forward: {@code v - sum(p v)}; LogSoftmax reverse:
         * {@code v - p sum(v)}; p the softmax, sums along the axis, for each of the k directions.
         */
        private NdArray apply(Node node, NdArray x, NdArray y, NdArray v, int k, boolean reverse) {
            int axis = Shapes.axis(node.intAttr("axis", -1), x.rank(), node.label());
            Split3 s = Split3.of(x.dims(), axis);
            double[] yd = y.data();
            double[] vd = v.data();
            double[] r = new double[vd.length];
            int m = yd.length;
            for (int kk = 0; kk < k; kk++) {
                for (int o = 0; o < s.outer(); o++) {
                    for (int j = 0; j < s.inner(); j++) {
                        int base = o * s.len() * s.inner() + j;
                        double dot = 0;
                        for (int i = 0; i < s.len(); i++) {
                            int at = base + i * s.inner();
                            double p = log ? Math.exp(yd[at]) : yd[at];
                            dot += log && reverse ? vd[kk * m + at] : p * vd[kk * m + at];
                        }
                        for (int i = 0; i < s.len(); i++) {
                            int at = base + i * s.inner();
                            double p = log ? Math.exp(yd[at]) : yd[at];
                            double vv = vd[kk * m + at];
                            r[kk * m + at] = !log ? p * (vv - dot) : reverse ? vv - p * dot : vv - dot;
                        }
                    }
                }
            }
            return new NdArray(v.dims(), r);
        }

        @Override
        public NdArray[] jvp(Node node, NdArray[] in, NdArray[] out, NdArray[] t, int k) {
            return new NdArray[] {apply(node, in[0], out[0], t[0], k, false)};
        }

        @Override
        public NdArray[] vjp(Node node, NdArray[] in, NdArray[] out, NdArray[] g, boolean[] need, int k) {
            return new NdArray[] {apply(node, in[0], out[0], g[0], k, true)};
        }
    }

    /** ReduceMean / ReduceSum over axes (attribute, or second input from opset 13 (sum) and 18 (mean)). */
    static final class ReduceOp implements GraphOp {
        private final boolean mean;

        ReduceOp(boolean mean) {
            this.mean = mean;
        }

        /** Which axes are reduced. */
        private boolean[] reduced(Node node, NdArray[] in) {
            NdArray x = in[0];
            long[] axes = in.length > 1 && in[1] != null ? in[1].longs() : node.intsAttr("axes");
            boolean[] r = new boolean[x.rank()];
            if (axes == null || axes.length == 0) {
                java.util.Arrays.fill(r, node.intAttr("noop_with_empty_axes", 0) == 0);
                return r;
            }
            for (long a : axes) {
                r[Shapes.axis(a, x.rank(), node.label())] = true;
            }
            return r;
        }

        private int[] keptShape(Node node, NdArray[] in) {
            boolean[] r = reduced(node, in);
            int[] kept = in[0].shape();
            for (int i = 0; i < kept.length; i++) {
                if (r[i]) {
                    kept[i] = 1;
                }
            }
            return kept;
        }

        private int[] outShape(Node node, NdArray[] in) {
            int[] kept = keptShape(node, in);
            if (node.intAttr("keepdims", 1) != 0) {
                return kept;
            }
            boolean[] r = reduced(node, in);
            java.util.List<Integer> s = new java.util.ArrayList<>();
            for (int i = 0; i < kept.length; i++) {
                if (!r[i]) {
                    s.add(kept[i]);
                }
            }
            return s.stream().mapToInt(Integer::intValue).toArray();
        }

        @Override
        public NdArray[] forward(Node node, NdArray[] in) {
            int[] kept = keptShape(node, in);
            NdArray x = in[0];
            int[] map = Shapes.broadcastIndex(kept, x.dims());
            double[] r = new double[NdArray.size(kept)];
            double[] xd = x.data();
            for (int i = 0; i < xd.length; i++) {
                r[map[i]] += xd[i];
            }
            if (mean) {
                double scale = (double) r.length / Math.max(1, xd.length);
                for (int i = 0; i < r.length; i++) {
                    r[i] *= scale;
                }
            }
            return new NdArray[] {new NdArray(outShape(node, in), r, x.integer() && !mean)};
        }

        @Override
        public boolean differentiable(Node node, int i) {
            return i == 0;
        }

        @Override
        public NdArray[] jvp(Node node, NdArray[] in, NdArray[] out, NdArray[] t, int k) {
            int[] kept = keptShape(node, in);
            int[] map = Shapes.broadcastIndex(kept, in[0].dims());
            int n = in[0].size();
            int m = out[0].size();
            double scale = mean ? (double) m / Math.max(1, n) : 1.0;
            double[] td = t[0].data();
            double[] r = new double[k * m];
            for (int kk = 0; kk < k; kk++) {
                for (int i = 0; i < n; i++) {
                    r[kk * m + map[i]] += scale * td[kk * n + i];
                }
            }
            return new NdArray[] {new NdArray(Shapes.prepend(k, out[0].dims()), r)};
        }

        @Override
        public NdArray[] vjp(Node node, NdArray[] in, NdArray[] out, NdArray[] g, boolean[] need, int k) {
            int[] kept = keptShape(node, in);
            int[] map = Shapes.broadcastIndex(kept, in[0].dims());
            int n = in[0].size();
            int m = out[0].size();
            double scale = mean ? (double) m / Math.max(1, n) : 1.0;
            double[] gd = g[0].data();
            double[] r = new double[k * n];
            for (int kk = 0; kk < k; kk++) {
                for (int i = 0; i < n; i++) {
                    r[kk * n + i] = scale * gd[kk * m + map[i]];
                }
            }
            NdArray[] res = new NdArray[in.length];
            res[0] = new NdArray(Shapes.prepend(k, in[0].dims()), r);
            return res;
        }
    }

    /** ONNX LayerNormalization (opset 17): normalise over the axes from {@code axis} on, then scale and shift. */
    static final class LayerNormOp implements GraphOp {
        private record Stats(int outer, int len, double[] xhat, double[] inv, int[] scaleIndex, int[] norm) {
        }

        private static Stats stats(Node node, NdArray[] in) {
            NdArray x = in[0];
            int axis = Shapes.axis(node.intAttr("axis", -1), x.rank(), node.label());
            double eps = node.floatAttr("epsilon", 1e-5);
            int outer = 1;
            for (int i = 0; i < axis; i++) {
                outer *= x.dim(i);
            }
            int len = x.size() / Math.max(outer, 1);
            int[] norm = java.util.Arrays.copyOfRange(x.dims(), axis, x.rank());
            int[] scaleIndex = Shapes.broadcastIndex(in[1].dims(), norm);
            double[] xd = x.data();
            double[] xhat = new double[xd.length];
            double[] inv = new double[outer];
            for (int o = 0; o < outer; o++) {
                double mu = 0;
                for (int i = 0; i < len; i++) {
                    mu += xd[o * len + i];
                }
                mu /= len;
                double var = 0;
                for (int i = 0; i < len; i++) {
                    double d = xd[o * len + i] - mu;
                    var += d * d;
                }
                var /= len;
                inv[o] = 1 / Math.sqrt(var + eps);
                for (int i = 0; i < len; i++) {
                    xhat[o * len + i] = (xd[o * len + i] - mu) * inv[o];
                }
            }
            return new Stats(outer, len, xhat, inv, scaleIndex, norm);
        }

        @Override
        public NdArray[] forward(Node node, NdArray[] in) {
            Stats s = stats(node, in);
            double[] scale = in[1].data();
            double[] bias = in.length > 2 && in[2] != null ? in[2].data() : null;
            int[] bi = bias == null ? null : biasIndex(in, s);
            double[] y = new double[s.xhat().length];
            for (int o = 0; o < s.outer(); o++) {
                for (int i = 0; i < s.len(); i++) {
                    int at = o * s.len() + i;
                    y[at] = s.xhat()[at] * scale[s.scaleIndex()[i]] + (bias == null ? 0 : bias[bi[i]]);
                }
            }
            NdArray[] out = new NdArray[node.outputs().size()];
            out[0] = new NdArray(in[0].dims(), y);
            return out;
        }

        @Override
        public boolean differentiable(Node node, int i) {
            return true;
        }

        private static int[] biasIndex(NdArray[] in, Stats s) {
            return Shapes.broadcastIndex(in[2].dims(), s.norm());
        }

        @Override
        public NdArray[] jvp(Node node, NdArray[] in, NdArray[] out, NdArray[] t, int k) {
            Stats s = stats(node, in);
            double[] scale = in[1].data();
            int n = s.xhat().length;
            double[] r = new double[k * n];
            double[] xhat = s.xhat();
            for (int kk = 0; kk < k; kk++) {
                for (int o = 0; o < s.outer(); o++) {
                    if (t[0] != null) {
                        double[] td = t[0].data();
                        double m1 = 0;
                        double m2 = 0;
                        for (int i = 0; i < s.len(); i++) {
                            int at = o * s.len() + i;
                            m1 += td[kk * n + at];
                            m2 += td[kk * n + at] * xhat[at];
                        }
                        m1 /= s.len();
                        m2 /= s.len();
                        for (int i = 0; i < s.len(); i++) {
                            int at = o * s.len() + i;
                            double dxhat = s.inv()[o] * (td[kk * n + at] - m1 - xhat[at] * m2);
                            r[kk * n + at] += scale[s.scaleIndex()[i]] * dxhat;
                        }
                    }
                    if (t[1] != null) {
                        double[] ts = t[1].data();
                        int size = in[1].size();
                        for (int i = 0; i < s.len(); i++) {
                            int at = o * s.len() + i;
                            r[kk * n + at] += ts[kk * size + s.scaleIndex()[i]] * xhat[at];
                        }
                    }
                    if (in.length > 2 && t[2] != null) {
                        double[] tb = t[2].data();
                        int size = in[2].size();
                        int[] bi = biasIndex(in, s);
                        for (int i = 0; i < s.len(); i++) {
                            r[kk * n + o * s.len() + i] += tb[kk * size + bi[i]];
                        }
                    }
                }
            }
            NdArray[] res = new NdArray[out.length];
            res[0] = new NdArray(Shapes.prepend(k, in[0].dims()), r);
            return res;
        }

        @Override
        public NdArray[] vjp(Node node, NdArray[] in, NdArray[] out, NdArray[] g, boolean[] need, int k) {
            Stats s = stats(node, in);
            double[] scale = in[1].data();
            double[] xhat = s.xhat();
            int n = xhat.length;
            double[] gd = g[0].data();
            double[] gx = need[0] ? new double[k * n] : null;
            int sizeScale = in[1].size();
            double[] gs = need[1] ? new double[k * sizeScale] : null;
            boolean hasBias = in.length > 2 && in[2] != null;
            int[] bi = hasBias ? biasIndex(in, s) : null;
            double[] gb = hasBias && need[2] ? new double[k * in[2].size()] : null;
            double[] gxhat = new double[s.len()];
            for (int kk = 0; kk < k; kk++) {
                for (int o = 0; o < s.outer(); o++) {
                    double m1 = 0;
                    double m2 = 0;
                    for (int i = 0; i < s.len(); i++) {
                        int at = o * s.len() + i;
                        double gv = gd[kk * n + at];
                        gxhat[i] = gv * scale[s.scaleIndex()[i]];
                        m1 += gxhat[i];
                        m2 += gxhat[i] * xhat[at];
                        if (gs != null) {
                            gs[kk * sizeScale + s.scaleIndex()[i]] += gv * xhat[at];
                        }
                        if (gb != null) {
                            gb[kk * in[2].size() + bi[i]] += gv;
                        }
                    }
                    if (gx != null) {
                        m1 /= s.len();
                        m2 /= s.len();
                        for (int i = 0; i < s.len(); i++) {
                            int at = o * s.len() + i;
                            gx[kk * n + at] = s.inv()[o] * (gxhat[i] - m1 - xhat[at] * m2);
                        }
                    }
                }
            }
            NdArray[] r = new NdArray[in.length];
            if (gx != null) {
                r[0] = new NdArray(Shapes.prepend(k, in[0].dims()), gx);
            }
            if (gs != null) {
                r[1] = new NdArray(Shapes.prepend(k, in[1].dims()), gs);
            }
            if (gb != null) {
                r[2] = new NdArray(Shapes.prepend(k, in[2].dims()), gb);
            }
            return r;
        }
    }
}
