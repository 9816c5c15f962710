using Lstm.Core;

namespace Lstm.Onnx;

/// <summary>A node's outputs as ONNX defines them (see <see cref="OnnxRecurrentModel.Run"/>).</summary>
/// <param name="Y">All hidden states: [T, D, B, H] with layout 0, [B, T, D, H] with layout 1.</param>
/// <param name="YH">The last hidden state: [D, B, H] with layout 0, [B, D, H] with layout 1.</param>
/// <param name="YC">The last cell state (LSTM), shaped as <paramref name="YH"/>; empty for GRU and RNN.</param>
/// <param name="YShape">The shape of <paramref name="Y"/>.</param>
/// <param name="StateShape">The shape of <paramref name="YH"/> and <paramref name="YC"/>.</param>
public sealed record OnnxOutputs(float[] Y, float[] YH, float[] YC, int[] YShape, int[] StateShape);

/// <summary>
/// One recurrent node of an ONNX model as a network of this library: one layer, its directions, the node's layout, and
/// the initial state or sequence lengths the model stores. <see cref="Run"/> takes and gives ONNX's layouts.
/// </summary>
public sealed class OnnxRecurrentModel : IDisposable
{
    internal OnnxRecurrentModel(OnnxNodeInfo node, OnnxGraphSummary graph, RecurrentNetwork network, OnnxDirection direction, int layout,
        float[]? initialH, float[]? initialC, int[]? sequenceLengths, IReadOnlyList<string> runtimeInputs, string? quantization)
    {
        Node = node;
        Graph = graph;
        Network = network;
        Direction = direction;
        Layout = layout;
        InitialH = initialH;
        InitialC = initialC;
        SequenceLengths = sequenceLengths;
        RuntimeInputs = runtimeInputs;
        Quantization = quantization;
    }

    /// <summary>The node this model runs.</summary>
    public OnnxNodeInfo Node { get; }

    /// <summary>Every recurrent node of the file and every other node (ignored).</summary>
    public OnnxGraphSummary Graph { get; }

    /// <summary>
    /// The node's weights as a one-layer network (bidirectional for D = 2; batch-first for layout 1). A reverse node is
    /// a forward network that <see cref="Run"/> feeds the sequence backward in time.
    /// </summary>
    public RecurrentNetwork Network { get; }

    /// <summary>forward, reverse or bidirectional.</summary>
    public OnnxDirection Direction { get; }

    /// <summary>0: X is [T, B, I]; 1: [B, T, I].</summary>
    public int Layout { get; }

    /// <summary>D: 2 for bidirectional, else 1.</summary>
    public int Directions => Direction == OnnxDirection.Bidirectional ? 2 : 1;

    /// <summary>The initial_h stored in the model (an initializer or Constant), in the node's layout; null if none.</summary>
    public float[]? InitialH { get; }

    /// <summary>The initial_c stored in the model, as <see cref="InitialH"/>.</summary>
    public float[]? InitialC { get; }

    /// <summary>The sequence_lens stored in the model; null if none.</summary>
    public int[]? SequenceLengths { get; }

    /// <summary>
    /// The node's optional inputs that the graph computes or takes from its inputs (e.g. "initial_h: the graph input
    /// 'h0'"): this import runs the node alone, so pass them to <see cref="Run"/> (zeros, and full lengths, if not).
    /// </summary>
    public IReadOnlyList<string> RuntimeInputs { get; }

    /// <summary>For a DynamicQuantizeLSTM node, how its int8/uint8 weights were loaded; null for a float node.</summary>
    public string? Quantization { get; }

    /// <summary>The shape X must have: [T, B, I] or [B, T, I].</summary>
    public int[] InputShape(int steps, int batch) =>
        Layout == 0 ? [steps, batch, Network.Options.InputSize] : [batch, steps, Network.Options.InputSize];

    /// <summary>The shape of initial_h, initial_c, Y_h and Y_c: [D, B, H] or [B, D, H].</summary>
    public int[] StateShape(int batch) =>
        Layout == 0 ? [Directions, batch, Network.Options.HiddenSize] : [batch, Directions, Network.Options.HiddenSize];

    /// <summary>
    /// Runs the node on <paramref name="x"/> (<see cref="InputShape"/>). <paramref name="initialH"/> and
    /// <paramref name="initialC"/> (<see cref="StateShape"/>) default to the model's stored ones, else zeros;
    /// <paramref name="sequenceLengths"/> [B] to the stored ones, else T for every row.
    /// </summary>
    public OnnxOutputs Run(ReadOnlySpan<float> x, int steps, int batch, ReadOnlySpan<float> initialH = default,
        ReadOnlySpan<float> initialC = default, ReadOnlySpan<int> sequenceLengths = default)
    {
        RecurrentOptions o = Network.Options;
        ArgumentOutOfRangeException.ThrowIfNegative(steps);
        ArgumentOutOfRangeException.ThrowIfNegative(batch);
        int d = Directions, h = o.HiddenSize;
        Check(x.Length, (long)steps * batch * o.InputSize, nameof(x), InputShape(steps, batch));
        bool lstm = o.Cell == CellKind.Lstm;
        if (!lstm && !initialC.IsEmpty)
        {
            throw new ArgumentException($"initialC: a {o.Cell} node has no cell state.", nameof(initialC));
        }
        float[] h0 = StateIn(initialH, InitialH, nameof(initialH), batch);
        float[] c0 = lstm ? StateIn(initialC, InitialC, nameof(initialC), batch) : [];
        int[]? lengths = sequenceLengths.IsEmpty ? SequenceLengths : sequenceLengths.ToArray();
        CheckLengths(lengths, steps, batch);
        bool ragged = lengths is not null && lengths.Any(n => n != steps);

        // A reverse node is a forward network fed each row's valid steps backward (the whole sequence when no row ends
        // early); rows shorter than T run as Lstm.Core's variable-length batches (PyTorch's packed sequences, which are
        // ONNX's sequence_lens: outputs past a row's length 0, Y_h its state at its last valid step).
        int rowWidth = o.InputSize;
        float[] input = Direction == OnnxDirection.Reverse ? ReverseTime(x, steps, batch, rowWidth, lengths) : x.ToArray();
        SequenceOutput r = ragged ? Network.Forward(input, steps, batch, lengths, h0, c0) : Network.Forward(input, steps, batch, h0, c0);
        float[] ours = Direction == OnnxDirection.Reverse ? ReverseTime(r.Output, steps, batch, d * h, lengths) : r.Output;

        // Ours: [T, B, D, H] (layout 0) or [B, T, D, H] (layout 1, the same as ONNX's); states [D, B, H].
        float[] y = Layout == 0 ? Transpose12(ours, steps, batch, d, h) : ours;
        float[] yh = Layout == 0 ? r.Hn : Transpose01(r.Hn, d, batch, h);
        float[] yc = !lstm ? [] : Layout == 0 ? r.Cn : Transpose01(r.Cn, d, batch, h);
        int[] yShape = Layout == 0 ? [steps, d, batch, h] : [batch, steps, d, h];
        return new OnnxOutputs(y, yh, yc, yShape, StateShape(batch));
    }

    /// <summary>Disposes <see cref="Network"/>.</summary>
    public void Dispose() => Network.Dispose();

    private float[] StateIn(ReadOnlySpan<float> given, float[]? stored, string name, int batch)
    {
        int d = Directions, h = Network.Options.HiddenSize;
        ReadOnlySpan<float> s = given.IsEmpty ? stored : given;
        if (s.IsEmpty) return [];
        long need = (long)d * batch * h;
        if (s.Length != need)
        {
            string whose = given.IsEmpty ? $"the model's stored {(name == "initialH" ? "initial_h" : "initial_c")}" : name;
            throw new ArgumentException($"{whose} has {s.Length} elements; expected shape [{string.Join(", ", StateShape(batch))}] = {need} elements.", name);
        }
        // Ours is [D, B, H] for both layouts.
        return Layout == 0 ? s.ToArray() : Transpose01(s, batch, d, h);
    }

    private static void CheckLengths(int[]? sequenceLengths, int steps, int batch)
    {
        if (sequenceLengths is null) return;
        if (sequenceLengths.Length != batch)
        {
            throw new ArgumentException($"sequenceLengths has {sequenceLengths.Length} elements; expected shape [{batch}] (B).", nameof(sequenceLengths));
        }
        foreach (int n in sequenceLengths)
        {
            if (n < 0 || n > steps)
            {
                throw new ArgumentOutOfRangeException(nameof(sequenceLengths), n, $"sequence length {n} is outside [0, T = {steps}].");
            }
        }
    }

    private static void Check(long actual, long expected, string name, int[] shape)
    {
        if (actual != expected)
        {
            throw new ArgumentException($"{name} has {actual} elements; expected shape [{string.Join(", ", shape)}] = {expected} elements.", name);
        }
    }

    // Layout 0 [T, B, W] or layout 1 [B, T, W]: each row's first length[b] steps (all T without lengths) reversed in
    // time, the padding left where it is. The layout decides which axis T is.
    private float[] ReverseTime(ReadOnlySpan<float> a, int steps, int batch, int width, int[]? lengths)
    {
        float[] r = new float[a.Length];
        for (int b = 0; b < batch; b++)
        {
            int n = lengths?[b] ?? steps;
            for (int t = 0; t < steps; t++)
            {
                int from = t < n ? n - 1 - t : t;
                int at = Layout == 0 ? ((t * batch) + b) * width : ((b * steps) + t) * width;
                int src = Layout == 0 ? ((from * batch) + b) * width : ((b * steps) + from) * width;
                a.Slice(src, width).CopyTo(r.AsSpan(at));
            }
        }
        return r;
    }

    // [A, B, C, W] → [A, C, B, W].
    private static float[] Transpose12(ReadOnlySpan<float> a, int n0, int n1, int n2, int w)
    {
        float[] r = new float[a.Length];
        for (int i = 0; i < n0; i++)
        {
            for (int j = 0; j < n1; j++)
            {
                for (int k = 0; k < n2; k++)
                {
                    a.Slice((((i * n1) + j) * n2 + k) * w, w).CopyTo(r.AsSpan((((i * n2) + k) * n1 + j) * w));
                }
            }
        }
        return r;
    }

    // [A, B, W] → [B, A, W].
    internal static float[] Transpose01(ReadOnlySpan<float> a, int n0, int n1, int w) => Transpose12(a, 1, n0, n1, w);
}
