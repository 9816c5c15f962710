using Lstm.Core.Threading;

namespace Lstm.Core;

public sealed partial class RecurrentNetwork
{
    private TrainingWorkspace? idleWorkspace; // Backward of a pooled trace borrows it (one kept, like the team)

    /// <summary>Bytes the worker threads of the team this network keeps have allocated (tests: 0 without workers).</summary>
    internal long WorkerAllocatedBytes => Volatile.Read(ref idleTeam)?.WorkerAllocatedBytes ?? 0;

    /// <summary>
    /// A trace for sequences of exactly <paramref name="steps"/> × <paramref name="batch"/> that owns every buffer a
    /// training step needs, those of the backward pass too. <see cref="ForwardTrainingInto"/>
    /// refills it (its <see cref="TrainingTrace.Result"/> arrays are overwritten each time) and
    /// <see cref="BackwardInto"/>
    /// reads it, so that after the first step neither allocates. One pass at a time; Dispose ends it. Not for networks
    /// with projections yet (NotSupportedException).
    /// </summary>
    public TrainingTrace CreateTrace(int steps, int batch)
    {
        ThrowUnlessFloat32(nameof(CreateTrace));
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        if (Options.ProjectionSize > 0)
        {
            // The pass itself would run (NewTrace and ForwardTrainingPass handle projections), but ProjectionPass's
            // backward allocates its scratch per call, so such a trace would not keep CreateTrace's promise.
            throw new NotSupportedException("A reusable trace for a network with projections is not supported yet; use ForwardTraining.");
        }
        CheckSequenceSizes(steps, batch, checkInput: true);
        return NewTrace(steps, batch, BufferSource.Owned, packing: null, owned: true); // RecurrentNetwork.Forward.cs
    }

    /// <summary>
    /// A trace's buffers for a pass of <paramref name="steps"/> × <paramref name="batch"/> (sizes checked by the caller):
    /// per layer its input [T·B, in] and output [T·B, D·H'], per layer-direction the gates [T·B, G·H], c_t [T·B, H]
    /// (a GRU: what its backward pass reads) and with projections o ⊙ tanh(c) [T·B, H], h0 and c0, and the result
    /// y, hn, cn (the top layer's output is y itself when neither layout nor row order changes it).
    /// <paramref name="owned"/>: <see cref="CreateTrace"/>'s, which also owns the backward pass's workspace.
    /// </summary>
    private TrainingTrace NewTrace(int steps, int batch, BufferSource source, Packing? packing, bool owned)
    {
        RecurrentOptions o = Options;
        int l = o.Layers, d = o.Directions, h = o.HiddenSize, rows = steps * batch, n = rows * o.OutputSize, states = d * l * batch;
        var inputs = new float[l][];
        var outputs = new float[l][];
        var gates = new float[l * d][];
        var cells = new float[l * d][];
        float[][] raws = o.ProjectionSize > 0 ? new float[l * d][] : [];
        bool topIsResult = !o.BatchFirst && packing is null;
        inputs[0] = source.Get(rows * o.InputSize);
        for (int layer = 0; layer < l; layer++)
        {
            outputs[layer] = layer == l - 1 && topIsResult ? new float[n] : source.Get(n);
            if (layer > 0)
            {
                inputs[layer] = outputs[layer - 1]; // a masked copy instead while dropout is on
            }
            for (int dir = 0; dir < d; dir++)
            {
                int slot = (layer * d) + dir;
                gates[slot] = source.Get(rows * o.Gates * h);
                cells[slot] = o.Cell != CellKind.Rnn ? source.Get(rows * h) : [];
                if (raws.Length > 0)
                {
                    raws[slot] = source.Get(rows * h);
                }
            }
        }
        float[] hn = new float[states * o.HiddenStateSize], cn = o.HasCellState ? new float[states * h] : [];
        var result = new SequenceOutput(topIsResult ? outputs[l - 1] : new float[n], hn, cn)
        {
            OutputLengths = o.BatchFirst ? [batch, steps, o.OutputSize] : [steps, batch, o.OutputSize],
            StateLengths = [d * l, batch, o.HiddenStateSize],
            CellLengths = [d * l, batch, h],
        };
        float[] h0 = new float[states * o.HiddenStateSize], c0 = o.HasCellState ? new float[states * h] : [];
        return new TrainingTrace(steps, batch, result, inputs, outputs, gates, cells, h0, c0)
        {
            DropoutMasks = new float[]?[l],
            MaskBuffers = new float[]?[l],
            MaskedInputs = new float[]?[l],
            RawHidden = raws,
            Packing = packing,
            Source = source,
            Owner = owned ? this : null,
            Workspace = owned ? new TrainingWorkspace(o, steps, batch) : null,
        };
    }

    /// <summary>
    /// <see cref="ForwardTraining(ReadOnlySpan{float}, int, int, ReadOnlySpan{float}, ReadOnlySpan{float}, float, Training.SeededRandom?)"/>
    /// into a trace from <see cref="CreateTrace"/> (its steps and batch): the same values bit for bit, and no allocation
    /// once the trace has run a pass (with dropout: a pass with dropout). With <see cref="Threads"/> &gt; 1 it splits the
    /// rows at 16 per thread and more, and below that the hidden units when H ≥ <see cref="MinUnitsPerThread"/> per
    /// thread, as <c>ForwardTraining</c> does: the same pass (RecurrentNetwork.Forward.cs) into buffers this trace owns.
    /// </summary>
    public void ForwardTrainingInto(TrainingTrace trace, ReadOnlySpan<float> x, ReadOnlySpan<float> h0 = default, ReadOnlySpan<float> c0 = default,
        float dropout = 0, Training.SeededRandom? random = null)
    {
        ArgumentNullException.ThrowIfNull(trace);
        ThrowUnlessFloat32(nameof(ForwardTrainingInto));
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        ObjectDisposedException.ThrowIf(trace.Disposed, trace);
        if (!ReferenceEquals(trace.Owner, this))
        {
            throw new ArgumentException("trace: a trace from this network's CreateTrace is needed (this one is pooled, or another network's).", nameof(trace));
        }
        CheckDropout(dropout, random);
        CheckSequenceInputs(x, trace.Steps, trace.Batch, h0, c0);
        ForwardTrainingPass(trace, x, h0, c0, dropout, random); // RecurrentNetwork.Forward.cs
    }

    /// <summary>
    /// <see cref="Backward(TrainingTrace, ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, ParameterSet)"/> into the caller's
    /// buffers: <paramref name="dx"/> in the layout of x, <paramref name="dh0"/> and <paramref name="dc0"/> [D·L, B, H]
    /// (dh0 [D·L, B, P] with projections); each may be empty when not wanted (an empty dx also skips the last dX GEMM).
    /// With a trace from <see cref="CreateTrace"/> it allocates nothing; the same values bit for bit. Any trace of this
    /// network: a pooled one with lengths or projections too.
    /// </summary>
    public void BackwardInto(TrainingTrace trace, ReadOnlySpan<float> dy, ReadOnlySpan<float> dhn, ReadOnlySpan<float> dcn, ParameterSet gradients,
        Span<float> dx, Span<float> dh0, Span<float> dc0)
    {
        ArgumentNullException.ThrowIfNull(trace);
        ArgumentNullException.ThrowIfNull(gradients);
        ThrowUnlessFloat32(nameof(BackwardInto));
        ObjectDisposedException.ThrowIf(trace.Disposed, trace);
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        CheckGradientShapes(trace, dy, dhn, dcn, gradients);
        RecurrentOptions o = Options;
        int steps = trace.Steps, batch = trace.Batch, states = o.Directions * o.Layers;
        ShapeCheck.ExactOrEmpty(dx, nameof(dx), o.BatchFirst ? [batch, steps, o.InputSize] : [steps, batch, o.InputSize]);
        ShapeCheck.ExactOrEmpty(dh0, nameof(dh0), states, batch, o.HiddenStateSize);
        if (!o.HasCellState && !dc0.IsEmpty)
        {
            throw new ArgumentException($"{NoCellState(o)}; dc0 must be empty.", nameof(dc0));
        }
        ShapeCheck.ExactOrEmpty(dc0, nameof(dc0), states, batch, o.HiddenSize);

        TrainingWorkspace space = trace.Workspace ?? BorrowWorkspace(steps, batch);
        try
        {
            BackwardLayers(trace, dy, dhn, dcn, gradients, space, wantDx: !dx.IsEmpty);
            if (!dx.IsEmpty)
            {
                Layout.FromTimeMajor(space.DAbove, steps, batch, o.InputSize, o.BatchFirst, dx);
            }
            if (!dh0.IsEmpty)
            {
                space.Dh0.AsSpan(0, dh0.Length).CopyTo(dh0); // with projections the workspace's states are H wide, dh0's P
            }
            if (!dc0.IsEmpty)
            {
                space.Dc0.CopyTo(dc0);
            }
        }
        finally
        {
            if (trace.Workspace is null)
            {
                ReturnWorkspace(space);
            }
        }
    }

    private TrainingWorkspace BorrowWorkspace(int steps, int batch) =>
        Interlocked.Exchange(ref idleWorkspace, null) is { } w && w.Fits(Options, steps, batch) ? w : new TrainingWorkspace(Options, steps, batch);

    private void ReturnWorkspace(TrainingWorkspace space) => Interlocked.CompareExchange(ref idleWorkspace, space, null);

    /// <summary>
    /// The backward pass, mirroring <see cref="ForwardTrainingPass"/>: dy into time-major rows (sorted by length with
    /// lengths, as the trace is), then layer by layer from the top, through the dropout mask, each direction's
    /// <see cref="BackwardLayer"/> adding into dX; leaves dX (time-major, the caller's row order) in space.DAbove,
    /// dh0 and dc0 in space.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // see BackwardLayer
    private void BackwardLayers(TrainingTrace trace, ReadOnlySpan<float> dy, ReadOnlySpan<float> dhn, ReadOnlySpan<float> dcn, ParameterSet gradients,
        TrainingWorkspace space, bool wantDx)
    {
        RecurrentOptions o = Options;
        int steps = trace.Steps, batch = trace.Batch, l = o.Layers, d = o.Directions, h = o.HiddenSize, rows = steps * batch;
        Fill(space.Dhn, dhn);
        Fill(space.Dcn, dcn);
        float[] dAbove = space.DAbove, dBelow = space.DBelow;
        int n = rows * o.OutputSize;
        Layout.ToTimeMajor(dy, steps, batch, o.OutputSize, o.BatchFirst, dAbove);
        Packing? packing = trace.Packing;
        packing?.Sort(dAbove, steps, o.OutputSize);
        packing?.Sort(space.Dhn, d * l, o.HiddenStateSize);
        packing?.Sort(space.Dcn, d * l, h);
        for (int layer = l - 1; layer >= 0; layer--)
        {
            if (layer < l - 1 && trace.DropoutMasks[layer] is { } mask)
            {
                System.Numerics.Tensors.TensorPrimitives.Multiply(dAbove.AsSpan(0, n), mask.AsSpan(0, n), dAbove.AsSpan(0, n)); // through the dropout mask
            }
            int nx = rows * o.LayerInputSize(layer);
            bool dxHere = layer > 0 || wantDx;
            Array.Clear(dBelow, 0, nx); // dX accumulates over both directions
            for (int dir = 0; dir < d; dir++)
            {
                int slot = (layer * d) + dir;
                var job = new BackwardJob(o, Packed(layer, dir), dir, steps, batch, trace, slot, slot * batch * h, dAbove, dBelow, dxHere,
                    !dhn.IsEmpty, !dcn.IsEmpty, gradients.Get(layer, dir, ParameterRole.WeightIh), gradients.Get(layer, dir, ParameterRole.WeightHh),
                    gradients.GetOrEmpty(layer, dir, ParameterRole.BiasIh), gradients.GetOrEmpty(layer, dir, ParameterRole.BiasHh),
                    o.Peepholes ? gradients.Get(layer, dir, ParameterRole.Peephole) : [], space, KernelPath);
                BackwardLayer(in job, o.ProjectionSize > 0 ? gradients.Get(layer, dir, ParameterRole.Projection) : []);
            }
            (dAbove, dBelow) = (dBelow, dAbove);
            n = nx;
        }
        if (wantDx && !ReferenceEquals(dAbove, space.DAbove))
        {
            dAbove.AsSpan(0, n).CopyTo(space.DAbove); // dX where Backward reads it
        }
        packing?.Unsort(space.DAbove, steps, o.InputSize);
        packing?.Unsort(space.Dh0, d * l, o.HiddenStateSize);
        packing?.Unsort(space.Dc0, d * l, h);
    }

    // One layer-direction: with projections or lengths on this thread; else rows split for large batches, units split
    // for small ones, else this thread. dWhr: the projection's gradient (projections only).
    // Fully optimized from the first call, without dynamic PGO: with it, the main job's backward pass (2 × LSTM(128),
    // B = 32, T = 50, with its dense head's) took 12.9 ms a step instead of 8.2 (as with DOTNET_TieredPGO=0 or
    // TieredCompilation=0), once the forward and backward passes were split into these steps.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private void BackwardLayer(in BackwardJob job, float[] dWhr)
    {
        RecurrentOptions o = job.O;
        if (o.ProjectionSize > 0)
        {
            BackwardProjectedLayer(in job, dWhr); // RecurrentNetwork.Projection.cs
            return;
        }
        if (job.Trace.Packing is { } packing)
        {
            SequencePass.Buffers packed = job.Buffers();
            packed.Alive = packing.Alive;
            SequencePass.BackwardPacked(o, job.W, job.Dir, job.Steps, job.Batch, packed, job.Gradients(), job.Path);
            return;
        }
        bool threaded = Threads > 1 && !o.Peepholes && job.Steps * job.Batch > 0 && !Team.PrefersAlone; // see ForwardLayer
        if (threaded && job.Batch >= SplitSequence.RowsPerMemberForBatchSplit * Threads)
        {
            Team team = TryTeam();
            try
            {
                job.Space.RowsBackward.Run(team, in job);
            }
            finally
            {
                ReturnTeam(team);
            }
            return;
        }
        if (threaded && o.Cell != CellKind.Gru && o.HiddenSize >= MinUnitsPerThread * Threads && SplitBackwardUnits.CanSplit(job.W, Threads))
        {
            Team team = TryTeam();
            try
            {
                job.Space.UnitsBackward.Run(team, in job);
            }
            finally
            {
                ReturnTeam(team);
            }
            return;
        }
        if (job.Batch == 0)
        {
            return;
        }
        int m = job.Steps * job.Batch, gh = o.Gates * o.HiddenSize;
        SequencePass.Buffers buf = job.Buffers();
        SequencePass.Gradients g = job.Gradients();
        SequencePass.BackwardSteps(o, job.W, job.Dir, job.Steps, job.Batch, 0, job.Batch, buf, g, job.Path, job.Space.DGates, job.Space.HPrev, job.Space.StepScratch);
        SequencePass.WeightGradients(o, job.W, m, 0, gh, 0, job.WantDx ? m : 0, buf, g, job.Path, job.Space.DGates, job.Space.HPrev);
    }
}
