using System.Buffers;
using Lstm.Core.Threading;

namespace Lstm.Core;

public sealed partial class RecurrentNetwork
{
    /// <summary>
    /// Runs the whole sequence and keeps nothing. <paramref name="x"/> is [T, B, I] (or [B, T, I] when batch-first);
    /// <paramref name="h0"/>, <paramref name="c0"/> are [D·L, B, H] or empty for zeros.
    /// </summary>
    public SequenceOutput Forward(ReadOnlySpan<float> x, int steps, int batch, ReadOnlySpan<float> h0 = default, ReadOnlySpan<float> c0 = default) =>
        Run(x, steps, batch, h0, c0, training: false).Result;

    /// <summary>
    /// <see cref="Forward(ReadOnlySpan{float}, int, int, ReadOnlySpan{float}, ReadOnlySpan{float})"/> into the caller's
    /// buffers: <paramref name="output"/> [T, B, D·H] (or [B, T, D·H] batch-first), <paramref name="hn"/> and
    /// <paramref name="cn"/> [D·L, B, H] (<paramref name="cn"/> empty for an RNN). Every other buffer is pooled, so
    /// repeated calls do not churn the large-object heap; the same values, bit for bit.
    /// </summary>
    public void Forward(ReadOnlySpan<float> x, int steps, int batch, Span<float> output, Span<float> hn, Span<float> cn,
        ReadOnlySpan<float> h0 = default, ReadOnlySpan<float> c0 = default)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        RecurrentOptions o = Options;
        ShapeCheck.NonNegative(steps, nameof(steps));
        ShapeCheck.NonNegative(batch, nameof(batch));
        ShapeCheck.Elements(nameof(steps), "the output steps × batch × directions·hidden", steps, batch, o.OutputSize);
        ShapeCheck.Exact(output, nameof(output), o.BatchFirst ? [batch, steps, o.OutputSize] : [steps, batch, o.OutputSize]);
        ShapeCheck.Exact(hn, nameof(hn), o.Directions * o.Layers, batch, o.HiddenStateSize);
        if (o.Cell == CellKind.Lstm)
        {
            ShapeCheck.Exact(cn, nameof(cn), o.Directions * o.Layers, batch, o.HiddenSize);
        }
        else if (!cn.IsEmpty)
        {
            throw new ArgumentException($"{NoCellState(o)}; cn must be empty.", nameof(cn));
        }
        var into = new Destination(output, hn, cn);
        Run(x, steps, batch, h0, c0, training: false, into: into);
    }

    /// <summary>Where an inference pass writes its results when the caller gives them (else: fresh arrays).</summary>
    private readonly ref struct Destination(Span<float> output, Span<float> hn, Span<float> cn)
    {
        public readonly Span<float> Output = output;
        public readonly Span<float> Hn = hn;
        public readonly Span<float> Cn = cn;
        public bool IsSet => Output.Length > 0 || Hn.Length > 0;
    }

    /// <summary>
    /// Runs the whole sequence and keeps what <see cref="Backward(TrainingTrace, ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, ParameterSet)"/> needs. With <paramref name="dropout"/> &gt; 0, each
    /// layer's output except the last is multiplied by a mask of 0 and 1/(1 - p) drawn from <paramref name="random"/>
    /// before the next layer reads it (inverted dropout; training only).
    /// </summary>
    public TrainingTrace ForwardTraining(ReadOnlySpan<float> x, int steps, int batch, ReadOnlySpan<float> h0 = default, ReadOnlySpan<float> c0 = default,
        float dropout = 0, Training.SeededRandom? random = null)
    {
        ThrowUnlessFloat32(nameof(ForwardTraining));
        if (dropout is < 0 or >= 1 || float.IsNaN(dropout))
        {
            throw new ArgumentOutOfRangeException(nameof(dropout), dropout, "dropout must be in [0, 1).");
        }
        if (dropout > 0 && random is null)
        {
            throw new ArgumentNullException(nameof(random), "Dropout needs a seeded random source.");
        }
        return Run(x, steps, batch, h0, c0, training: true, dropout, random);
    }

    private TrainingTrace Run(ReadOnlySpan<float> x, int steps, int batch, ReadOnlySpan<float> h0, ReadOnlySpan<float> c0, bool training,
        float dropout = 0, Training.SeededRandom? random = null, Destination into = default, Packing? packing = null)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        RecurrentOptions o = Options;
        ShapeCheck.NonNegative(steps, nameof(steps));
        ShapeCheck.NonNegative(batch, nameof(batch));
        if (o.ProjectionSize > 0)
        {
            return RunProjected(x, steps, batch, h0, c0, training, dropout, random, into, packing);
        }
        int l = o.Layers, d = o.Directions, h = o.HiddenSize, gh = o.Gates * h;
        // The largest buffers a pass allocates, checked before any of them is: the gate pre-activations [T·B, G·H],
        // each layer's output [T·B, D·H] and its input, and the states [D·L, B, H].
        int rows = ShapeCheck.Elements(nameof(steps), "the rows steps × batch", steps, batch);
        ShapeCheck.Elements(nameof(steps), "the gate buffer steps × batch × gates·hidden", steps, batch, gh);
        ShapeCheck.Elements(nameof(steps), "a layer's output steps × batch × directions·hidden", steps, batch, o.OutputSize);
        ShapeCheck.Elements(nameof(batch), "the states directions·layers × batch × hidden", d * l, batch, h);
        ShapeCheck.Exact(x, nameof(x), o.BatchFirst ? [batch, steps, o.InputSize] : [steps, batch, o.InputSize]);
        ShapeCheck.ExactOrEmpty(h0, nameof(h0), d * l, batch, h);
        ShapeCheck.ExactOrEmpty(c0, nameof(c0), d * l, batch, h);
        if (!o.HasCellState && !c0.IsEmpty)
        {
            throw new ArgumentException($"{NoCellState(o)}; c0 must be empty.", nameof(c0));
        }
        float[] h0All = h0.IsEmpty ? new float[d * l * batch * h] : h0.ToArray();
        float[] c0All = !o.HasCellState ? [] : c0.IsEmpty ? new float[d * l * batch * h] : c0.ToArray();
        float[] hn = new float[d * l * batch * h], cn = !o.HasCellState ? [] : new float[d * l * batch * h];
        if (CheckFinite)
        {
            new FiniteProbe(nameof(h0), 0, 0, -1).Rows(h0All, d * l * batch, h, h);
            new FiniteProbe(nameof(c0), 0, 0, -1).Rows(c0All, c0All.Length / h, h, h);
        }

        var inputs = new float[l][];
        var outputs = new float[l][];
        var gates = new float[l * d][];
        var cells = new float[l * d][];
        var masks = new float[l][];
        // Every buffer but the results is borrowed from a pool: fresh multi-megabyte arrays per call cost more in page
        // faults than the arithmetic at small H. Inference returns them at the end; a training trace on Dispose.
        var borrowed = new List<float[]>();
        float[] Scratch(int length)
        {
            float[] a = ArrayPool<float>.Shared.Rent(length);
            borrowed.Add(a);
            return a;
        }
        bool keep = false;
        try
        {
            int n = rows * o.OutputSize;
            float[] input = Scratch(rows * o.InputSize);
            Layout.ToTimeMajor(x, steps, batch, o.InputSize, o.BatchFirst, input);
            if (packing is not null && o.Cell == CellKind.Gru)
            {
                throw new NotSupportedException("Variable lengths with GRU cells are not supported yet; pass lengths equal to T or run rows of one length together.");
            }
            packing?.ToSorted(input, steps, o.InputSize, h0All, c0All, h);
            for (int t = 0; CheckFinite && t < steps; t++) // with lengths, the valid rows only (PyTorch never reads the padding)
            {
                new FiniteProbe(nameof(x), 0, 0, t, packing?.Order).Rows(input.AsSpan(t * batch * o.InputSize), packing?.Alive[t] ?? batch, o.InputSize, o.InputSize);
            }
            float[]? gateScratch = training ? null : Scratch(rows * gh);
            float[]? cScratch = training || o.Cell == CellKind.Rnn ? null : Scratch(2 * batch * h); // GRU: what GruPass saves
            bool threaded = Threads > 1 && !CheckFinite && rows > 0 && (!training || !o.Peepholes) && packing is null;
            for (int layer = 0; layer < l; layer++)
            {
                float[] y = layer == l - 1 && !o.BatchFirst && !into.IsSet ? new float[n] : Scratch(n); // the top layer's is the result
                inputs[layer] = input;
                outputs[layer] = y;
                for (int dir = 0; dir < d; dir++)
                {
                    int slot = (layer * d) + dir, state = slot * batch * h;
                    float[] g = gateScratch ?? Scratch(rows * gh);
                    float[] c = cScratch ?? (o.Cell != CellKind.Rnn ? Scratch(rows * h) : []);
                    gates[slot] = g;
                    cells[slot] = c;
                    if (threaded && CanSplit(layer, dir, batch, training))
                    {
                        Team team = TryTeam();
                        try
                        {
                            ForwardOnTeam(team, layer, dir, steps, batch, input, y, g, c, h0All, c0All, hn, cn, state, training);
                        }
                        finally
                        {
                            ReturnTeam(team);
                        }
                        continue;
                    }
                    var buffers = new SequencePass.Buffers
                    {
                        X = input,
                        Y = y,
                        Gates = g,
                        C = c,
                        H0 = h0All.AsSpan(state, batch * h),
                        C0 = o.Cell == CellKind.Lstm ? c0All.AsSpan(state, batch * h) : default,
                        KeepAllC = training,
                        Alive = packing is null ? default : packing.Alive,
                    };
                    if (packing is not null)
                    {
                        SequencePass.ForwardPacked(o, Packed(layer, dir), dir, steps, batch, buffers, hn.AsSpan(state, batch * h),
                            o.Cell == CellKind.Lstm ? cn.AsSpan(state, batch * h) : default, KernelPath, CheckFinite ? layer : -1, packing.Order);
                        continue;
                    }
                    SequencePass.Forward(o, Packed(layer, dir), dir, steps, batch, buffers, hn.AsSpan(state, batch * h),
                        o.Cell == CellKind.Lstm ? cn.AsSpan(state, batch * h) : default, KernelPath, CheckFinite ? layer : -1);
                }
                input = y;
                if (dropout > 0 && layer < l - 1)
                {
                    float kept = 1 / (1 - dropout);
                    masks[layer] = new float[n];
                    input = Scratch(n);
                    for (int i = 0; i < n; i++)
                    {
                        masks[layer][i] = random!.NextDouble() < dropout ? 0f : kept;
                        input[i] = y[i] * masks[layer][i];
                    }
                }
            }
            float[] top = outputs[l - 1];
            if (packing is not null)
            {
                // The results in the caller's row order; the trace keeps its buffers sorted for the backward pass.
                top = packing.FromSorted(top, steps, o.OutputSize, hn, cn, h);
            }
            if (into.IsSet)
            {
                Layout.FromTimeMajor(top, steps, batch, o.OutputSize, o.BatchFirst, into.Output);
                hn.CopyTo(into.Hn);
                cn.CopyTo(into.Cn);
                return new TrainingTrace(steps, batch, new SequenceOutput([], [], []), [], [], [], [], [], []);
            }
            var result = new SequenceOutput(Layout.FromTimeMajor(top, steps, batch, o.OutputSize, o.BatchFirst), hn, cn)
            {
                OutputLengths = o.BatchFirst ? [batch, steps, o.OutputSize] : [steps, batch, o.OutputSize],
                StateLengths = [d * l, batch, o.HiddenStateSize],
                CellLengths = [d * l, batch, o.HiddenSize],
            };
            if (!training)
            {
                return new TrainingTrace(steps, batch, result, [], [], [], [], [], []);
            }
            keep = true;
            return new TrainingTrace(steps, batch, result, inputs, outputs, gates, cells, h0All, c0All) { DropoutMasks = masks, Borrowed = borrowed, Packing = packing };
        }
        finally
        {
            if (!keep)
            {
                foreach (float[] a in borrowed) ArrayPool<float>.Shared.Return(a);
            }
        }
    }

    /// <summary>
    /// Backpropagation through time. <paramref name="dy"/> is the gradient of the loss with respect to the output
    /// (shape of <see cref="SequenceOutput.Output"/>); <paramref name="dhn"/>, <paramref name="dcn"/> with respect to
    /// hn, cn ([D·L, B, H], or empty for zeros). Accumulates every parameter's gradient into
    /// <paramref name="gradients"/> and returns dX, dh0 and dc0.
    /// </summary>
    public InputGradients Backward(TrainingTrace trace, ReadOnlySpan<float> dy, ReadOnlySpan<float> dhn, ReadOnlySpan<float> dcn, ParameterSet gradients)
    {
        ArgumentNullException.ThrowIfNull(trace);
        RecurrentOptions o = Options;
        if (o.ProjectionSize > 0)
        {
            return BackwardProjected(trace, dy, dhn, dcn, gradients);
        }
        if (trace.Packing is { } packing)
        {
            return BackwardPackedBatch(trace, packing, dy, dhn, dcn, gradients);
        }
        int state = o.Directions * o.Layers * trace.Batch * o.HiddenSize; // the forward pass checked that these fit an array
        float[] dx = new float[trace.Steps * trace.Batch * o.InputSize], dh0 = new float[state], dc0 = o.HasCellState ? new float[state] : [];
        BackwardInto(trace, dy, dhn, dcn, gradients, dx, dh0, dc0); // RecurrentNetwork.Training.cs
        return new InputGradients(dx, dh0, dc0);
    }

    // A variable-length batch's backward pass (its trace is in sorted row order), on the calling thread.
    private InputGradients BackwardPackedBatch(TrainingTrace trace, Packing packing, ReadOnlySpan<float> dy, ReadOnlySpan<float> dhn, ReadOnlySpan<float> dcn, ParameterSet gradients)
    {
        ArgumentNullException.ThrowIfNull(gradients);
        ThrowUnlessFloat32(nameof(Backward));
        ObjectDisposedException.ThrowIf(trace.Disposed, trace);
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        RecurrentOptions o = Options;
        int steps = trace.Steps, batch = trace.Batch, l = o.Layers, d = o.Directions, h = o.HiddenSize;
        int rows = steps * batch; // the forward pass that made the trace checked that T·B·G·H fits an array
        if (trace.LayerOutputs.Length != l || gradients.Infos.Count != parameters.Infos.Count)
        {
            throw new ArgumentException("The trace or the gradients belong to a network of another shape.", nameof(trace));
        }
        ShapeCheck.Exact(dy, nameof(dy), o.BatchFirst ? [batch, steps, o.OutputSize] : [steps, batch, o.OutputSize]);
        ShapeCheck.ExactOrEmpty(dhn, nameof(dhn), d * l, batch, h);
        ShapeCheck.ExactOrEmpty(dcn, nameof(dcn), d * l, batch, h);
        if (!o.HasCellState && !dcn.IsEmpty)
        {
            throw new ArgumentException($"{NoCellState(o)}; dcn must be empty.", nameof(dcn));
        }

        float[] dh0 = new float[d * l * batch * h], dc0 = !o.HasCellState ? [] : new float[d * l * batch * h];
        var borrowed = new List<float[]>();
        try
        {
            int n = rows * o.OutputSize;
            float[] dAbove = ArrayPool<float>.Shared.Rent(n);
            borrowed.Add(dAbove);
            Layout.ToTimeMajor(dy, steps, batch, o.OutputSize, o.BatchFirst, dAbove);
            // Into the trace's sorted row order; dhn and dcn as sorted copies.
            packing.ToSorted(dAbove, steps, o.OutputSize, [], [], h);
            float[] sortedDhn = dhn.ToArray(), sortedDcn = dcn.ToArray();
            packing.ToSorted([], steps, 0, sortedDhn, sortedDcn, h);
            dhn = sortedDhn;
            dcn = sortedDcn;
            for (int layer = l - 1; layer >= 0; layer--)
            {
                if (layer < l - 1 && trace.DropoutMasks[layer] is { } mask)
                {
                    System.Numerics.Tensors.TensorPrimitives.Multiply(dAbove.AsSpan(0, n), mask, dAbove.AsSpan(0, n)); // through the dropout mask
                }
                int nx = rows * o.LayerInputSize(layer);
                bool isResult = layer == 0 && !o.BatchFirst;
                float[] dx = isResult ? new float[nx] : ArrayPool<float>.Shared.Rent(nx);
                if (!isResult)
                {
                    borrowed.Add(dx);
                    Array.Clear(dx, 0, nx); // dX accumulates over both directions
                }
                for (int dir = 0; dir < d; dir++)
                {
                    int slot = (layer * d) + dir, state = slot * batch * h;
                    var buffers = new SequencePass.Buffers
                    {
                        X = trace.LayerInputs[layer],
                        Y = trace.LayerOutputs[layer],
                        Gates = trace.Gates[slot],
                        C = trace.Cells[slot],
                        H0 = trace.H0.AsSpan(state, batch * h),
                        C0 = o.Cell == CellKind.Lstm ? trace.C0.AsSpan(state, batch * h) : default,
                        KeepAllC = true,
                    };
                    var grads = new SequencePass.Gradients
                    {
                        DY = dAbove.AsSpan(0, n),
                        DX = dx.AsSpan(0, nx),
                        Dhn = dhn.IsEmpty ? default : dhn.Slice(state, batch * h),
                        Dcn = dcn.IsEmpty ? default : dcn.Slice(state, batch * h),
                        Dh0 = dh0.AsSpan(state, batch * h),
                        Dc0 = o.Cell == CellKind.Lstm ? dc0.AsSpan(state, batch * h) : default,
                        DWih = gradients.Get(layer, dir, ParameterRole.WeightIh),
                        DWhh = gradients.Get(layer, dir, ParameterRole.WeightHh),
                        DBih = gradients.GetOrEmpty(layer, dir, ParameterRole.BiasIh),
                        DBhh = gradients.GetOrEmpty(layer, dir, ParameterRole.BiasHh),
                        DPeep = o.Peepholes ? gradients.Get(layer, dir, ParameterRole.Peephole) : [],
                    };
                    buffers.Alive = packing.Alive;
                    SequencePass.BackwardPacked(o, Packed(layer, dir), dir, steps, batch, buffers, grads, KernelPath);
                }
                dAbove = dx;
                n = nx;
            }
            dAbove = packing.FromSorted(dAbove, steps, o.InputSize, dh0, dc0, h);
            return new InputGradients(Layout.FromTimeMajor(dAbove, steps, batch, o.InputSize, o.BatchFirst), dh0, dc0);
        }
        finally
        {
            foreach (float[] a in borrowed) ArrayPool<float>.Shared.Return(a);
        }
    }

    private static string NoCellState(RecurrentOptions o) => o.Cell == CellKind.Gru ? "A GRU has no cell state" : "An RNN has no cell state";
}
