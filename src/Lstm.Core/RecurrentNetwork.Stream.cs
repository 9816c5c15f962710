using Lstm.Simd;

namespace Lstm.Core;

/// <summary>
/// The state of one stream (h and c of every layer, for a batch of B rows) plus its scratch, so that
/// <see cref="RecurrentNetwork.Step(StreamState, ReadOnlySpan{float}, Span{float})"/> allocates nothing. One per thread; the network itself may be shared. It belongs
/// to the network that made it (stepping it with another throws), and a step while another thread is stepping it
/// throws <see cref="InvalidOperationException"/>.
/// </summary>
public sealed partial class StreamState : IDisposable
{
    private int busy;      // 1 while a Step runs: two at once would lose steps (one thread) or deadlock the team (several)
    private int disposed;

    internal StreamState(RecurrentNetwork network, RecurrentOptions o, int batch, Threading.SplitStream? split = null)
    {
        Network = network;
        Options = o;
        Batch = batch;
        Split = split;
        int h = o.HiddenSize;
        H = Enumerable.Range(0, o.Layers).Select(_ => new float[batch * o.HiddenStateSize]).ToArray(); // P wide with projections
        Raw = o.ProjectionSize > 0 ? new float[batch * h] : [];
        C = Enumerable.Range(0, o.Layers).Select(_ => new float[o.Cell == CellKind.Lstm ? 2 * batch * h : 0]).ToArray();
        Current = new int[o.Layers];
        Gates = new float[batch * o.Gates * h];
        GruScratch = new float[o.Cell == CellKind.Gru ? batch * 4 * h : 0];
    }

    /// <summary>B: the rows each step consumes.</summary>
    public int Batch { get; }

    /// <summary>The shape of the network that made this state.</summary>
    public RecurrentOptions Options { get; }

    /// <summary>The threads that share each step (1: the calling thread only).</summary>
    public int Threads => Split?.Threads ?? 1;

    internal Threading.SplitStream? Split { get; }

    /// <summary>The network that made this state: its weights are the ones a threaded stream's workers read.</summary>
    internal RecurrentNetwork Network { get; }

    internal bool IsDisposed => Volatile.Read(ref disposed) != 0;

    /// <summary>Tests: runs inside <see cref="RecurrentNetwork.Step(StreamState, ReadOnlySpan{float}, Span{float})"/> while the step holds the state.</summary>
    internal Action? DuringStep { get; set; }

    /// <summary>Bytes the stream's worker threads have allocated since they started (0 without workers).</summary>
    internal long WorkerAllocatedBytes => Split?.WorkerAllocatedBytes ?? 0;

    internal float[][] H { get; }      // [L][B, H] (P wide with projections)

    internal float[][] C { get; }      // [L][2, B, H]: c_{t-1} and c_t, alternating

    internal int[] Current { get; }    // which half of C holds c_{t-1}

    internal float[] Gates { get; }    // [B, G·H] scratch

    internal float[] GruScratch { get; } // [B, 3H] the recurrent product, then [B, H] r⊙h' (GRU only)
    internal float[] Raw { get; }      // [B, H] scratch with projections: o ⊙ tanh(c) before W_hr; else empty

    /// <summary>Steps taken since the state was created or reset.</summary>
    public long Steps
    {
        get => Split?.Steps ?? steps;
        internal set => steps = value;
    }

    private long steps;

    /// <summary>Sets h and c of every layer to 0.</summary>
    public void Reset()
    {
        foreach (float[] v in H) Array.Clear(v);
        foreach (float[] v in C) Array.Clear(v);
        Steps = 0;
        Split?.Reset();
    }

    /// <summary>
    /// Stops the stream's worker threads, if it has any (a stream dropped without it has them stopped by the garbage
    /// collector's finalizer). <see cref="RecurrentNetwork.Step(StreamState, ReadOnlySpan{float}, Span{float})"/> on a disposed state throws
    /// <see cref="ObjectDisposedException"/>. Disposing twice is fine.
    /// </summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0)
        {
            return;
        }
        // A step running on another thread (a misuse) still needs its workers: it stops them when it leaves.
        if (Interlocked.CompareExchange(ref busy, 1, 0) == 0)
        {
            Split?.Dispose();
        }
    }

    internal void Enter()
    {
        if (Interlocked.CompareExchange(ref busy, 1, 0) != 0)
        {
            ObjectDisposedException.ThrowIf(IsDisposed, this);
            throw new InvalidOperationException("The stream state is being stepped on another thread: a StreamState belongs to one thread at a time.");
        }
    }

    internal void Leave()
    {
        Interlocked.Exchange(ref busy, 0); // a full fence: the read below cannot move before the release
        if (IsDisposed && Interlocked.CompareExchange(ref busy, 1, 0) == 0)
        {
            Split?.Dispose();
        }
    }

    /// <summary>h of layer <paramref name="layer"/>, [B, H].</summary>
    public ReadOnlySpan<float> Hidden(int layer) => Split is { } split ? split.Hidden(layer) : H[layer];

    /// <summary>c of layer <paramref name="layer"/>, [B, H] (empty for an RNN).</summary>
    public ReadOnlySpan<float> Cell(int layer) =>
        Split is { } split ? split.Cell(layer) : C[layer].Length == 0 ? default : C[layer].AsSpan(Current[layer] * C[layer].Length / 2, C[layer].Length / 2);
}

public sealed partial class RecurrentNetwork
{
    /// <summary>A zeroed stream state for <paramref name="batch"/> rows. Streaming runs forward in time only: D must be 1.</summary>
    /// <param name="batch">B: rows per step.</param>
    /// <param name="threads">
    /// Threads that share every step (the calling thread plus <c>threads - 1</c> workers owned by the stream; dispose
    /// it to stop them). Each owns a slice of the hidden units and keeps its weight rows in its own cache. Results are
    /// bitwise the same for every thread count. <paramref name="threads"/> is a maximum: each thread gets at least
    /// <see cref="MinUnitsPerThread"/> units, as in <see cref="Threads"/>'s splits, because below that a step's barrier
    /// costs more than its share of the work (<see cref="StreamState.Threads"/> says how many threads it got).
    /// </param>
    public StreamState CreateStream(int batch = 1, int threads = 1)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        if (Options.Bidirectional)
        {
            throw new InvalidOperationException("A bidirectional network needs the whole sequence; it cannot be stepped as a stream.");
        }
        ShapeCheck.Elements(nameof(batch), "the stream's gates batch × gates·hidden", batch, Options.Gates * (long)Options.HiddenSize);
        if (batch <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(batch), batch, "batch must be ≥ 1.");
        }
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(threads, 256);
        // With projections a stream steps on the calling thread only (StreamState.Threads says 1): the unit split is not built for W_hr.
        int parts = Options.ProjectionSize == 0 ? StreamParts(Options.HiddenSize, threads, Volatile.Read(ref StreamUnitsPerThread)) : 1;
        return new StreamState(this, Options, batch, parts > 1 ? new Threading.SplitStream(this, batch, parts) : null);
    }

    /// <summary>
    /// Threads a stream of H units gets when <paramref name="threads"/> are asked for: at most one per
    /// <paramref name="unitsPerThread"/> units. Measured here (perf/Lstm.Benchmarks.Peers --cases grid, Zen 5): H = 64
    /// on 2 threads stepped 1.12× (B = 1) and 1.15× (B = 8) slower than on one, H = 32 2.6× slower; from H = 128
    /// (64 units each) every batch was faster.
    /// </summary>
    internal static int StreamParts(int hidden, int threads, int unitsPerThread) => Math.Clamp(hidden / unitsPerThread, 1, threads);

    /// <summary>
    /// <see cref="MinUnitsPerThread"/>; the test assembly lowers it to 1 (as many threads as the slices allow) so that small, fast
    /// cases cover the split stream code, and tests the rule itself through <see cref="StreamParts"/>.
    /// </summary>
    internal static int StreamUnitsPerThread = MinUnitsPerThread;

    /// <summary>
    /// One step of every layer for the stream's B rows: <paramref name="x"/> [B, I] in, <paramref name="y"/> [B, H]
    /// out (the top layer's h). Allocates nothing. Gives bitwise the same values as <see cref="Forward(ReadOnlySpan{float}, int, int, ReadOnlySpan{float}, ReadOnlySpan{float})"/> on the
    /// same inputs.
    /// </summary>
    public void Step(StreamState state, ReadOnlySpan<float> x, Span<float> y)
    {
        ArgumentNullException.ThrowIfNull(state);
        StepRows(state, state.Batch, state.Batch, x, y);
    }

    /// <summary>
    /// <see cref="Step(StreamState, ReadOnlySpan{float}, Span{float})"/> on the first <paramref name="b"/> rows of the
    /// state only (a <see cref="SessionHost"/> keeps the sessions that step in its first rows); rows
    /// [<paramref name="b"/>, <paramref name="live"/>) keep their state, the rest are left undefined.
    /// </summary>
    internal void StepRows(StreamState state, int b, int live, ReadOnlySpan<float> x, Span<float> y)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        if (!ReferenceEquals(state.Network, this))
        {
            throw new ArgumentException("The stream state was made by another network; a state belongs to the network whose CreateStream made it.", nameof(state));
        }
        ObjectDisposedException.ThrowIf(state.IsDisposed, state);
        if (b != state.Batch && state.Split is not null)
        {
            throw new InvalidOperationException("A stream split across threads steps all its rows.");
        }
        RecurrentOptions o = Options;
        int h = o.HiddenStateSize; // y is the top layer's h: P wide with projections
        if (x.Length != b * o.InputSize)
        {
            ShapeCheck.Exact(x, nameof(x), b, o.InputSize);
        }
        if (y.Length != b * h)
        {
            ShapeCheck.Exact(y, nameof(y), b, h);
        }

        state.Enter();
        try
        {
            state.DuringStep?.Invoke();
            StepHeld(state, b, live, x, y);
        }
        finally
        {
            state.Leave();
        }
    }

    private void StepHeld(StreamState state, int b, int live, ReadOnlySpan<float> x, Span<float> y)
    {
        RecurrentOptions o = Options;
        int h = o.HiddenSize;
        int step = (int)Math.Min(state.Steps, int.MaxValue);
        if (CheckFinite)
        {
            new FiniteProbe(nameof(x), 0, 0, step).Rows(x, b, o.InputSize, o.InputSize);
        }
        if (state.Split is { } split)
        {
            split.Step(x, y);
        }
        else
        {
            StepOnCallingThread(state, b, live, x, y);
        }
        // Layer by layer after the step: layer l's h and c are final once layer l has run, so the first non-finite
        // value found here is the first the step made.
        for (int layer = 0; CheckFinite && layer < o.Layers; layer++)
        {
            if (o.Cell == CellKind.Lstm)
            {
                new FiniteProbe("c", layer, 0, step).Rows(state.Cell(layer)[..(b * h)], b, h, h);
            }
            new FiniteProbe("h", layer, 0, step).Rows(state.Hidden(layer)[..(b * o.HiddenStateSize)], b, o.HiddenStateSize, o.HiddenStateSize);
        }
    }

    // The first b rows of the state; c's two halves are [Batch, H] each, whatever b. The halves swap for the whole
    // state, so the c of rows [b, live), which do not step, moves to the new half with them.
    private void StepOnCallingThread(StreamState state, int b, int live, ReadOnlySpan<float> x, Span<float> y)
    {
        RecurrentOptions o = Options;
        int h = o.HiddenSize, hs = o.HiddenStateSize, half = state.Batch * h; // hs: P with projections
        Span<float> gates = state.Gates.AsSpan(0, b * o.Gates * h);
        ReadOnlySpan<float> input = x;
        for (int layer = 0; layer < o.Layers; layer++)
        {
            PackedLayer w = Packed(layer, 0);
            Span<float> hState = state.H[layer].AsSpan(0, b * hs);
            w.InputWeights.Multiply(input, b, w.InputWeights.Columns, gates, w.InputWeights.Rows, accumulate: false, KernelPath); // G = x·W_ihᵀ + b
            if (o.Cell == CellKind.Gru)
            {
                Span<float> scratch = state.GruScratch;
                GruPass.Step(o, w, b, hState, h, gates, scratch[..(3 * b * h)], scratch.Slice(3 * state.Batch * h, b * h), hState, h, KernelPath);
                input = hState;
                continue;
            }
            w.RecurrentWeights.Multiply(hState, b, hs, gates, w.RecurrentWeights.Rows, accumulate: true, KernelPath);              // G += h·W_hhᵀ
            if (o.Cell == CellKind.Lstm)
            {
                int cur = state.Current[layer];
                Span<float> cells = state.C[layer];
                Span<float> cellOut = w.Projection is null ? hState : state.Raw.AsSpan(0, b * h); // o ⊙ tanh(c), projected below
                LstmCell.Forward(gates, b, h, cells.Slice(cur * half, b * h), cells.Slice((1 - cur) * half, b * h), cellOut, h, o.CellOptions, w.Peepholes, KernelPath);
                cells.Slice((cur * half) + (b * h), (live - b) * h).CopyTo(cells.Slice(((1 - cur) * half) + (b * h)));
                state.Current[layer] = 1 - cur;
                if (w.Projection is { } projection)
                {
                    Gemm.Multiply(cellOut, b, h, projection, hState, hs, KernelPath); // h = (o ⊙ tanh c)·W_hrᵀ
                }
            }
            else
            {
                RnnActivation.Forward(o, gates, hState, KernelPath);
            }
            input = hState;
        }
        state.Steps++;
        input.CopyTo(y);
    }
}
