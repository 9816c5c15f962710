using Lstm.Core;
using Lstm.Onnx.Proto;
using Lstm.Simd;

namespace Lstm.Onnx;

/// <summary>One recurrent node's inputs and attributes into a <see cref="RecurrentNetwork"/> of one layer.</summary>
internal static class OnnxNodeImport
{
    // Input positions, the same for LSTM, GRU, RNN and DynamicQuantizeLSTM up to initial_h.
    private const int W = 1, R = 2, B = 3, SequenceLens = 4, InitialH = 5, InitialC = 6, P = 7;
    private const int WScale = 8, WZeroPoint = 9, RScale = 10, RZeroPoint = 11;

    public static OnnxRecurrentModel Build(OnnxGraph graph, NodeProto node, OnnxNodeInfo info, SimdPath? kernelPath)
    {
        string what = $"{graph.What}: node {info}";
        bool quantized = node.OpType == "DynamicQuantizeLSTM";
        OnnxAttributes a = OnnxAttributes.Parse(node, what);
        int maxInputs = a.Cell == CellKind.Lstm ? (quantized ? 12 : 8) : 6;
        if (node.Input.Count > maxInputs)
        {
            throw new InvalidDataException($"{what} has {node.Input.Count} inputs; {node.OpType} takes at most {maxInputs}.");
        }
        if (Name(node, 0).Length == 0)
        {
            throw new InvalidDataException($"{what} has no input X.");
        }
        int gates = a.Cell switch { CellKind.Lstm => 4, CellKind.Gru => 3, _ => 1 };
        int d = a.Directions;

        // W [D, G·H, I] and R [D, G·H, H]; DynamicQuantizeLSTM keeps them transposed, [D, I, 4H] and [D, H, 4H].
        Quantized? wq = quantized ? ReadQuantized(graph, node, W, WScale, WZeroPoint, what) : null;
        Quantized? rq = quantized ? ReadQuantized(graph, node, R, RScale, RZeroPoint, what) : null;
        var (wValues, wShape) = wq is not null ? (wq.Dequantize(), wq.Shape) : Floats(graph, node, W, "W", what);
        var (rValues, rShape) = rq is not null ? (rq.Dequantize(), rq.Shape) : Floats(graph, node, R, "R", what);
        if (wShape.Length != 3 || rShape.Length != 3)
        {
            throw new InvalidDataException($"{what}: W is {Text(wShape)} and R is {Text(rShape)}; both must have 3 dimensions.");
        }
        int hidden = a.HiddenSize ?? (quantized ? rShape[1] : rShape[2]);
        int input = quantized ? wShape[1] : wShape[2];
        int[] wWant = quantized ? [d, input, gates * hidden] : [d, gates * hidden, input];
        int[] rWant = quantized ? [d, hidden, gates * hidden] : [d, gates * hidden, hidden];
        ExpectShape(wShape, wWant, "W", what);
        ExpectShape(rShape, rWant, "R", what);

        var options = new RecurrentOptions(input, hidden, Layers: 1, Bidirectional: d == 2, BatchFirst: a.Layout == 1, Cell: a.Cell,
            Nonlinearity: a.Nonlinearity, LinearBeforeReset: a.Cell != CellKind.Gru || a.LinearBeforeReset);
        float[]? bias = Optional(graph, node, B, "B", what, [d, 2 * gates * hidden]);
        float[]? peepholes = a.Cell == CellKind.Lstm ? Optional(graph, node, P, "P", what, [d, 3 * hidden]) : null;
        int[] order = OnnxGates.OursFromOnnx(a.Cell);
        int gh = gates * hidden;
        var values = new Dictionary<string, float[]>(StringComparer.Ordinal);
        for (int dir = 0; dir < d; dir++)
        {
            string suffix = "_l0" + (dir == 1 ? "_reverse" : "");
            float[] wd = quantized ? TransposeLast(wValues, dir, input, gh) : wValues.AsSpan(dir * gh * input, gh * input).ToArray();
            float[] rd = quantized ? TransposeLast(rValues, dir, hidden, gh) : rValues.AsSpan(dir * gh * hidden, gh * hidden).ToArray();
            values["weight_ih" + suffix] = OnnxGates.ToOurs(wd, order, hidden * input);
            values["weight_hh" + suffix] = OnnxGates.ToOurs(rd, order, hidden * hidden);
            // B is [Wb, Rb] per direction; no B means zero biases (ONNX's default), the same arithmetic.
            values["bias_ih" + suffix] = bias is null ? new float[gh] : OnnxGates.ToOurs(bias.AsSpan(dir * 2 * gh, gh), order, hidden);
            values["bias_hh" + suffix] = bias is null ? new float[gh] : OnnxGates.ToOurs(bias.AsSpan((dir * 2 * gh) + gh, gh), order, hidden);
            if (peepholes is not null)
            {
                values["weight_peephole" + suffix] = OnnxGates.ToOurs(peepholes.AsSpan(dir * 3 * hidden, 3 * hidden), OnnxGates.PeepholesOursFromOnnx, hidden);
            }
        }
        options = options with { Peepholes = peepholes is not null };

        var runtime = new List<string>();
        float[]? h0 = State(graph, node, InitialH, "initial_h", what, a, hidden, runtime);
        float[]? c0 = a.Cell == CellKind.Lstm ? State(graph, node, InitialC, "initial_c", what, a, hidden, runtime) : null;
        int[]? lengths = Lengths(graph, node, what, runtime);
        if (h0 is not null && c0 is not null && h0.Length != c0.Length)
        {
            throw new InvalidDataException($"{what}: initial_h and initial_c are for different batch sizes ({h0.Length / (d * hidden)} and {c0.Length / (d * hidden)}).");
        }

        RecurrentNetwork network;
        try
        {
            network = wq is not null && rq is not null && wq.FitsInt8Format && rq.FitsInt8Format
                ? Int8Network(options, values, wq, rq, order, kernelPath)
                : RecurrentNetwork.FromParameters(options, values, kernelPath);
        }
        catch (NotSupportedException e)
        {
            // The ReLU RNN is an option Lstm.Core has named but not built yet (issue 14).
            throw new InvalidDataException($"{what}: {e.Message} This build of Lstm.Core cannot run this node (the ReLU RNN comes with issue 14).", e);
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"{what}: its weights describe no network: {e.Message}", e);
        }
        string? quantization = !quantized ? null
            : network.WeightFormat == WeightFormat.Int8
                ? "symmetric int8 weights (zero points 0): loaded as they are into the int8 format, one scale per row"
                : "uint8 weights, or int8 with zero points or -128: dequantized to float32 at load, (q - zero point) · scale";
        return new OnnxRecurrentModel(info, graph.Summary, network, a.Direction, a.Layout, h0, c0, lengths, runtime, quantization);
    }

    // The same integers and scales on Lstm.Core's int8 path (its activations are quantized per row, ORT's per tensor).
    private static RecurrentNetwork Int8Network(RecurrentOptions options, Dictionary<string, float[]> values, Quantized w, Quantized r, int[] order, SimdPath? kernelPath)
    {
        int h = options.HiddenSize, rows = options.Gates * h;
        return RecurrentNetwork.FromPackedWeights(options, values, WeightFormat.Int8, (_, dir, bias) =>
        {
            var (qi, si) = w.OurRows(dir, order, h);
            var (qh, sh) = r.OurRows(dir, order, h);
            return (new GateWeights.Int8Weights(PackedInt8Matrix.FromQuantized(qi, si, rows, options.InputSize, bias)),
                new GateWeights.Int8Weights(PackedInt8Matrix.FromQuantized(qh, sh, rows, h)));
        }, kernelPath);
    }

    private static string Name(NodeProto node, int i) => i < node.Input.Count ? node.Input[i] : "";

    private static string Text(int[] shape) => "[" + string.Join(", ", shape) + "]";

    private static void ExpectShape(int[] shape, int[] want, string role, string what)
    {
        if (!shape.AsSpan().SequenceEqual(want))
        {
            throw new InvalidDataException($"{what}: {role} is {Text(shape)}; expected {Text(want)}.");
        }
    }

    private static TensorProto Stored(OnnxGraph graph, NodeProto node, int i, string role, string what)
    {
        string name = Name(node, i);
        if (name.Length == 0)
        {
            throw new InvalidDataException($"{what} has no input {role}.");
        }
        return graph.Constant(name)
            ?? throw new InvalidDataException($"{what}: its {role} is {graph.Source(name)}, not an initializer; only weights stored in the model import.");
    }

    private static (float[] Values, int[] Shape) Floats(OnnxGraph graph, NodeProto node, int i, string role, string what)
    {
        TensorProto t = Stored(graph, node, i, role, what);
        float[] v = OnnxTensors.Floats(t, $"{what}: {role} '{t.Name}'", out int[] shape);
        return (v, shape);
    }

    private static float[]? Optional(OnnxGraph graph, NodeProto node, int i, string role, string what, int[] want)
    {
        if (Name(node, i).Length == 0) return null;
        var (v, shape) = Floats(graph, node, i, role, what);
        ExpectShape(shape, want, role, what);
        return v;
    }

    /// <summary>A DynamicQuantizeLSTM weight as stored: q [D, in, 4H], a scale and zero point per direction or per output.</summary>
    private sealed record Quantized(int[] Q, int[] Zero, float[] Scale, int[] Shape, bool PerTensor, bool Int8)
    {
        /// <summary>Symmetric int8 (zero points 0, no -128): exactly what Lstm.Core's int8 format holds.</summary>
        public bool FitsInt8Format => Int8 && Zero.All(z => z == 0) && Q.All(v => v != -128);

        public int ScaleIndex(int dir, int column) => PerTensor ? dir : (dir * Shape[2]) + column;

        public float[] Dequantize()
        {
            float[] w = new float[Q.Length];
            int perDirection = Shape[1] * Shape[2];
            for (int k = 0; k < Q.Length; k++)
            {
                int s = ScaleIndex(k / perDirection, k % Shape[2]);
                w[k] = (Q[k] - Zero[s]) * Scale[s];
            }
            return w;
        }

        /// <summary>Direction <paramref name="dir"/>'s q as our rows [4H, in] (gate blocks reordered) and each row's scale.</summary>
        public (sbyte[] Q, float[] Scales) OurRows(int dir, int[] order, int hidden)
        {
            int k = Shape[1], n = Shape[2];
            sbyte[] q = new sbyte[n * k];
            float[] scales = new float[n];
            for (int row = 0; row < n; row++)
            {
                int onnxRow = (order[row / hidden] * hidden) + (row % hidden);
                scales[row] = Scale[ScaleIndex(dir, onnxRow)];
                for (int c = 0; c < k; c++) q[(row * k) + c] = (sbyte)Q[(((dir * k) + c) * n) + onnxRow];
            }
            return (q, scales);
        }
    }

    // DynamicQuantizeLSTM: int8 or uint8 weights, a scale and a zero point per direction [D] or per output [D, 4H].
    private static Quantized ReadQuantized(OnnxGraph graph, NodeProto node, int i, int scaleAt, int zeroAt, string what)
    {
        string role = i == W ? "W" : "R";
        TensorProto t = Stored(graph, node, i, role, what);
        if (t.DataType is not ((int)TensorProto.Types.DataType.Int8 or (int)TensorProto.Types.DataType.Uint8))
        {
            throw new InvalidDataException($"{what}: {role} is {OnnxTensors.TypeName(t.DataType)}; DynamicQuantizeLSTM takes INT8 or UINT8 weights.");
        }
        int[] q = OnnxTensors.Integers(t, $"{what}: {role} '{t.Name}'", out int[] shape);
        var (scale, scaleShape) = Floats(graph, node, scaleAt, role + "_scale", what);
        TensorProto zt = Stored(graph, node, zeroAt, role + "_zero_point", what);
        if (zt.DataType != t.DataType)
        {
            throw new InvalidDataException($"{what}: {role}_zero_point is {OnnxTensors.TypeName(zt.DataType)}, {role} {OnnxTensors.TypeName(t.DataType)}; they must match.");
        }
        int[] zero = OnnxTensors.Integers(zt, $"{what}: {role}_zero_point", out int[] zeroShape);
        if (shape.Length != 3)
        {
            throw new InvalidDataException($"{what}: {role} is {Text(shape)}; expected [D, ·, 4H].");
        }
        int dirs = shape[0], columns = shape[2];
        bool perTensor = scaleShape.AsSpan().SequenceEqual([dirs]);
        if (!perTensor && !scaleShape.AsSpan().SequenceEqual([dirs, columns]))
        {
            throw new InvalidDataException($"{what}: {role}_scale is {Text(scaleShape)}; expected [{dirs}] or [{dirs}, {columns}].");
        }
        ExpectShape(zeroShape, scaleShape, role + "_zero_point", what);
        for (int s = 0; s < scale.Length; s++)
        {
            if (!float.IsFinite(scale[s]) || scale[s] < 0)
            {
                throw new InvalidDataException($"{what}: {role}_scale[{s}] is {scale[s]}; expected a finite value ≥ 0.");
            }
        }
        return new Quantized(q, zero, scale, shape, perTensor, t.DataType == (int)TensorProto.Types.DataType.Int8);
    }

    // [D, K, N] → direction dir's [N, K] (DynamicQuantizeLSTM's layout into ours).
    private static float[] TransposeLast(float[] a, int dir, int k, int n)
    {
        float[] r = new float[n * k];
        int start = dir * k * n;
        for (int i = 0; i < k; i++)
        {
            for (int j = 0; j < n; j++) r[(j * k) + i] = a[start + (i * n) + j];
        }
        return r;
    }

    private static float[]? State(OnnxGraph graph, NodeProto node, int i, string role, string what, OnnxAttributes a, int hidden, List<string> runtime)
    {
        string name = Name(node, i);
        if (name.Length == 0) return null;
        if (graph.Constant(name) is not { } t)
        {
            runtime.Add($"{role}: {graph.Source(name)}");
            return null;
        }
        float[] v = OnnxTensors.Floats(t, $"{what}: {role} '{name}'", out int[] shape);
        int dirAxis = a.Layout == 0 ? 0 : 1, hAxis = 2;
        if (shape.Length != 3 || shape[dirAxis] != a.Directions || shape[hAxis] != hidden)
        {
            throw new InvalidDataException($"{what}: {role} is {Text(shape)}; expected {(a.Layout == 0 ? $"[{a.Directions}, B, {hidden}]" : $"[B, {a.Directions}, {hidden}]")}.");
        }
        return v;
    }

    private static int[]? Lengths(OnnxGraph graph, NodeProto node, string what, List<string> runtime)
    {
        string name = Name(node, SequenceLens);
        if (name.Length == 0) return null;
        if (graph.Constant(name) is not { } t)
        {
            runtime.Add($"sequence_lens: {graph.Source(name)}");
            return null;
        }
        int[] v = OnnxTensors.Integers(t, $"{what}: sequence_lens '{name}'", out int[] shape);
        if (shape.Length != 1)
        {
            throw new InvalidDataException($"{what}: sequence_lens is {Text(shape)}; expected [B].");
        }
        return v;
    }
}
