using Lstm.Core.Threading;

namespace Lstm.Core;

/// <summary>
/// The forward pass, as steps: the initial states (<see cref="LoadStates"/>), x into time-major rows
/// (<see cref="LayoutIn"/>), then layer by layer each direction's <see cref="ForwardLayer"/> and, in training, dropout
/// between layers (<see cref="Dropout"/>), then the top layer's output into the caller's layout (<see cref="LayoutOut"/>).
/// Inference (<see cref="ForwardInference"/>) keeps one layer-direction's gates and two steps of c; training
/// (<see cref="ForwardTrainingPass"/>) writes a trace that keeps what the backward pass reads. Both run the same
/// <see cref="ForwardLayer"/>; whether a trace's buffers are pooled or its own is a matter of <see cref="BufferSource"/>.
/// </summary>
public sealed partial class RecurrentNetwork
{
    /// <summary>
    /// One layer-direction's forward pass: what it reads and writes. Arrays rather than spans, so that a team job can
    /// hold them; rows time-major (t·B + b), sorted by length with <see cref="Packing"/>.
    /// </summary>
    private readonly ref struct LayerPass
    {
        public required int Layer { get; init; }
        public required int Dir { get; init; }
        public required int Steps { get; init; }
        public required int Batch { get; init; }
        public required float[] X { get; init; }        // [T·B, in]
        public required float[] Y { get; init; }        // [T·B, D·H']: this direction writes its H' columns
        public required float[] Gates { get; init; }    // [T·B, G·H]
        public required float[] Cells { get; init; }    // [T·B, H] every c_t (training, projections), or [2·B, H] (inference); none for an RNN
        public float[] Raw { get; init; }               // [T·B, H] o ⊙ tanh(c) before W_hr (projections only)
        public required float[] H0 { get; init; }       // [D·L, B, H'], every layer-direction's
        public required float[] C0 { get; init; }       // [D·L, B, H] (LSTM)
        public required float[] Hn { get; init; }       // [D·L, B, H']
        public required float[] Cn { get; init; }       // [D·L, B, H] (LSTM)
        public Packing? Packing { get; init; }
        public TrainingTrace? Trace { get; init; }      // training: the trace these buffers belong to (the team jobs read it)
    }

    // y, hn, cn from x, h0, c0 [shapes: RecurrentNetwork.Sequence.cs]. resultOutput: the array behind output, which the
    // top layer writes directly when it needs no layout or row order change.
    private void ForwardInference(ReadOnlySpan<float> x, int steps, int batch, ReadOnlySpan<float> h0, ReadOnlySpan<float> c0, Packing? packing,
        float[]? resultOutput, Span<float> output, float[] hn, float[] cn)
    {
        RecurrentOptions o = Options;
        int l = o.Layers, d = o.Directions, h = o.HiddenSize, rows = steps * batch, n = rows * o.OutputSize, states = d * l * batch;
        bool projected = o.ProjectionSize > 0; // the projection passes index whole arrays: exact ones, each layer-direction its own
        BufferSource source = projected ? BufferSource.Owned : BufferSource.Pooled;
        try
        {
            float[] h0All = new float[states * o.HiddenStateSize], c0All = o.HasCellState ? new float[states * h] : [];
            LoadStates(h0All, c0All, h0, c0);
            float[] input = source.Get(rows * o.InputSize);
            LayoutIn(x, steps, batch, input, h0All, c0All, packing);
            float[] gates = projected ? [] : source.Get(rows * o.Gates * h);                              // one layer-direction's at a time
            float[] cells = projected || o.Cell == CellKind.Rnn ? [] : source.Get(2 * batch * h);           // c_{t-1}, c_t (GRU: what GruPass saves)
            bool topIsResult = resultOutput is not null && !o.BatchFirst && packing is null;
            for (int layer = 0; layer < l; layer++)
            {
                float[] y = layer == l - 1 && topIsResult ? resultOutput! : source.Get(n);
                for (int dir = 0; dir < d; dir++)
                {
                    ForwardLayer(new LayerPass
                    {
                        Layer = layer, Dir = dir, Steps = steps, Batch = batch, X = input, Y = y,
                        Gates = projected ? source.Get(rows * o.Gates * h) : gates,
                        Cells = projected ? source.Get(rows * h) : cells,
                        Raw = projected ? source.Get(rows * h) : [],
                        H0 = h0All, C0 = c0All, Hn = hn, Cn = cn, Packing = packing,
                    });
                }
                input = y;
            }
            if (!topIsResult)
            {
                LayoutOut(input, steps, batch, output, hn, cn, packing);
            }
        }
        finally
        {
            source.ReturnAll();
        }
    }

    // The training pass into trace (its steps and batch; its buffers pooled or its own): the trace's result, and what
    // the backward pass reads: every layer's input and output, every step's gate activations and c, h0, c0, the masks.
    private void ForwardTrainingPass(TrainingTrace trace, ReadOnlySpan<float> x, ReadOnlySpan<float> h0, ReadOnlySpan<float> c0, float dropout,
        Training.SeededRandom? random)
    {
        RecurrentOptions o = Options;
        int steps = trace.Steps, batch = trace.Batch, l = o.Layers, d = o.Directions;
        LoadStates(trace.H0, trace.C0, h0, c0);
        LayoutIn(x, steps, batch, trace.LayerInputs[0], trace.H0, trace.C0, trace.Packing);
        for (int layer = 0; layer < l; layer++)
        {
            for (int dir = 0; dir < d; dir++)
            {
                int slot = (layer * d) + dir;
                ForwardLayer(new LayerPass
                {
                    Layer = layer, Dir = dir, Steps = steps, Batch = batch, X = trace.LayerInputs[layer], Y = trace.LayerOutputs[layer],
                    Gates = trace.Gates[slot], Cells = trace.Cells[slot], Raw = trace.RawHidden.Length > 0 ? trace.RawHidden[slot] : [],
                    H0 = trace.H0, C0 = trace.C0, Hn = trace.Result.Hn, Cn = trace.Result.Cn, Packing = trace.Packing, Trace = trace,
                });
            }
            if (layer < l - 1)
            {
                trace.DropoutMasks[layer] = dropout > 0 ? Dropout(trace, layer, dropout, random!) : null;
                trace.LayerInputs[layer + 1] = dropout > 0 ? trace.MaskedInputs[layer]! : trace.LayerOutputs[layer];
            }
        }
        if (!ReferenceEquals(trace.Result.Output, trace.LayerOutputs[l - 1]))
        {
            LayoutOut(trace.LayerOutputs[l - 1], steps, batch, trace.Result.Output, trace.Result.Hn, trace.Result.Cn, trace.Packing);
        }
    }

    /// <summary>
    /// One layer in one direction over the whole sequence: G = X·W_ihᵀ + b for all T steps in one GEMM, then per step
    /// G_t += h_{t-1}·W_hhᵀ and the fused cell (with projections one more GEMM, h_t = (o ⊙ tanh c)·W_hrᵀ). Packed
    /// (lengths) and projected passes run on this thread; otherwise, with <see cref="Threads"/> &gt; 1, a team splits
    /// the rows or the hidden units as <see cref="Threads"/> describes. Writes Y's columns of this direction and its hn, cn.
    /// </summary>
    private void ForwardLayer(in LayerPass p)
    {
        RecurrentOptions o = Options;
        int h = o.HiddenSize, hs = o.HiddenStateSize, b = p.Batch, slot = (p.Layer * o.Directions) + p.Dir;
        int hOffset = slot * b * hs, cOffset = slot * b * h, checkLayer = CheckFinite ? p.Layer : -1;
        bool lstm = o.Cell == CellKind.Lstm, training = p.Trace is not null;
        PackedLayer w = Packed(p.Layer, p.Dir);
        Span<float> hn = p.Hn.AsSpan(hOffset, b * hs), cn = lstm ? p.Cn.AsSpan(cOffset, b * h) : default;
        if (o.ProjectionSize > 0)
        {
            var projected = new ProjectionPass.Buffers
            {
                X = p.X, Y = p.Y, Gates = p.Gates, C = p.Cells, Raw = p.Raw, H0 = p.H0.AsSpan(hOffset, b * hs), C0 = p.C0.AsSpan(cOffset, b * h),
            };
            if (p.Packing is { } lengths)
            {
                ProjectionPass.ForwardPacked(o, w, p.Dir, p.Steps, b, lengths.Alive, projected, hn, cn, KernelPath, checkLayer, lengths.Order);
                return;
            }
            ProjectionPass.Forward(o, w, p.Dir, p.Steps, b, projected, hn, cn, KernelPath, checkLayer);
            return;
        }
        var buffers = new SequencePass.Buffers
        {
            X = p.X, Y = p.Y, Gates = p.Gates, C = p.Cells, H0 = p.H0.AsSpan(hOffset, b * h), C0 = lstm ? p.C0.AsSpan(cOffset, b * h) : default,
            KeepAllC = training,
        };
        if (p.Packing is { } packing)
        {
            buffers.Alive = packing.Alive;
            SequencePass.ForwardPacked(o, w, p.Dir, p.Steps, b, buffers, hn, cn, KernelPath, checkLayer, packing.Order);
            return;
        }
        // CheckFinite names the first bad value in order, so it runs on this thread; a training split would have to
        // sum the peephole gradient over rows, so peepholes train on this thread too. While another process holds a
        // core (Team.PrefersAlone), the one-thread pass, which a team running alone would only imitate.
        bool threaded = Threads > 1 && !CheckFinite && p.Steps * b > 0 && (!training || !o.Peepholes) && !Team.PrefersAlone;
        if (threaded && (training ? TryForwardTrainingOnTeam(p, w, slot, hOffset) : TryForwardOnTeam(p, hOffset)))
        {
            return;
        }
        SequencePass.Forward(o, w, p.Dir, p.Steps, b, buffers, hn, cn, KernelPath, checkLayer);
    }

    // Inference on a team when the layer splits (see CanSplit); false: it does not, run it on this thread.
    private bool TryForwardOnTeam(in LayerPass p, int stateOffset)
    {
        if (!CanSplit(p.Layer, p.Dir, p.Batch, training: false))
        {
            return false;
        }
        Team team = TryTeam();
        try
        {
            ForwardOnTeam(team, p.Layer, p.Dir, p.Steps, p.Batch, p.X, p.Y, p.Gates, p.Cells, p.H0, p.C0, p.Hn, p.Cn, stateOffset, training: false);
        }
        finally
        {
            ReturnTeam(team);
        }
        return true;
    }

    // Training on a team: rows split at 16 rows per thread and more, else the hidden units when each thread gets
    // MinUnitsPerThread of them (not a GRU); false: neither, run it on this thread. A pooled trace borrows the team
    // jobs of the network's idle workspace for the call (the backward pass borrows it next).
    private bool TryForwardTrainingOnTeam(in LayerPass p, PackedLayer w, int slot, int stateOffset)
    {
        RecurrentOptions o = Options;
        TrainingTrace trace = p.Trace!;
        bool rowsSplit = p.Batch >= SplitSequence.RowsPerMemberForBatchSplit * Threads;
        bool unitsSplit = o.Cell != CellKind.Gru && o.HiddenSize >= MinUnitsPerThread * Threads && TrainingForwardUnits.CanSplit(w, Threads);
        if (!rowsSplit && !unitsSplit)
        {
            return false;
        }
        TrainingWorkspace jobs = trace.Workspace ?? BorrowWorkspace(p.Steps, p.Batch);
        Team team = TryTeam();
        try
        {
            if (rowsSplit)
            {
                jobs.RowsForward.Run(team, o, w, p.Dir, p.Steps, p.Batch, trace, slot, stateOffset, KernelPath);
            }
            else
            {
                jobs.UnitsForward.Run(team, o, w, p.Dir, p.Steps, p.Batch, trace, slot, stateOffset, KernelPath);
            }
        }
        finally
        {
            ReturnTeam(team);
            if (trace.Workspace is null)
            {
                ReturnWorkspace(jobs);
            }
        }
        return true;
    }

    // h0All, c0All [D·L, B, H'] / [D·L, B, H] from the caller's h0 and c0 (empty: zeros), checked when CheckFinite is on.
    private void LoadStates(float[] h0All, float[] c0All, ReadOnlySpan<float> h0, ReadOnlySpan<float> c0)
    {
        Fill(h0All, h0);
        Fill(c0All, c0);
        if (CheckFinite)
        {
            int hs = Options.HiddenStateSize, h = Options.HiddenSize;
            new FiniteProbe(nameof(h0), 0, 0, -1).Rows(h0All, h0All.Length / hs, hs, hs);
            new FiniteProbe(nameof(c0), 0, 0, -1).Rows(c0All, c0All.Length / h, h, h);
        }
    }

    // x [T, B, I] or [B, T, I] into time-major rows [T·B, I]; with lengths the rows of x and of the states sorted by
    // length. CheckFinite checks x's valid rows (PyTorch never reads the padding).
    private void LayoutIn(ReadOnlySpan<float> x, int steps, int batch, float[] input, float[] h0All, float[] c0All, Packing? packing)
    {
        RecurrentOptions o = Options;
        Layout.ToTimeMajor(x, steps, batch, o.InputSize, o.BatchFirst, input);
        if (packing is not null)
        {
            packing.Sort(input, steps, o.InputSize);
            packing.SortRows(h0All, o.HiddenStateSize);
            packing.SortRows(c0All, o.HiddenSize);
        }
        for (int t = 0; CheckFinite && t < steps; t++)
        {
            new FiniteProbe(nameof(x), 0, 0, t, packing?.Order).Rows(input.AsSpan(t * batch * o.InputSize), packing?.Alive[t] ?? batch, o.InputSize, o.InputSize);
        }
    }

    // The top layer's time-major rows [T·B, D·H'] into output's layout; with lengths, the rows of y, hn and cn back in
    // the caller's order (a trace keeps its own buffers sorted for the backward pass).
    private void LayoutOut(float[] top, int steps, int batch, Span<float> output, float[] hn, float[] cn, Packing? packing)
    {
        RecurrentOptions o = Options;
        if (packing is not null)
        {
            top = packing.FromSorted(top, steps, o.OutputSize, [], [], 1);
            packing.UnsortRows(hn, o.HiddenStateSize);
            packing.UnsortRows(cn, o.HiddenSize);
        }
        Layout.FromTimeMajor(top, steps, batch, o.OutputSize, o.BatchFirst, output);
    }

    // Inverted dropout on layer's output, drawn in order from random: the mask (0 or 1/(1 - p)), which the backward
    // pass multiplies dY by, and the masked output, layer + 1's input (MaskedInputs). Both exactly T·B·D·H' long.
    private float[] Dropout(TrainingTrace trace, int layer, float dropout, Training.SeededRandom random)
    {
        int n = trace.Steps * trace.Batch * Options.OutputSize;
        float[] y = trace.LayerOutputs[layer];
        float[] mask = trace.MaskBuffers[layer] ??= new float[n];
        float[] masked = trace.MaskedInputs[layer] ??= trace.Source!.Get(n);
        float kept = 1 / (1 - dropout);
        for (int i = 0; i < n; i++)
        {
            mask[i] = random.NextDouble() < dropout ? 0f : kept;
            masked[i] = y[i] * mask[i];
        }
        return mask;
    }

    private static void Fill(Span<float> into, ReadOnlySpan<float> from)
    {
        if (from.IsEmpty)
        {
            into.Clear();
        }
        else
        {
            from.CopyTo(into);
        }
    }
}
