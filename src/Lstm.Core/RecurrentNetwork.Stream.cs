using Lstm.Simd;

namespace Lstm.Core;

/// <summary>
/// The state of one stream (h and c of every layer, for a batch of B rows) plus its scratch, so that
/// <see cref="RecurrentNetwork.Step"/> allocates nothing. One per thread; the network itself may be shared.
/// </summary>
public sealed class StreamState : IDisposable
{
    internal StreamState(RecurrentOptions o, int batch, Threading.SplitStream? split = null)
    {
        Batch = batch;
        Split = split;
        int h = o.HiddenSize;
        H = Enumerable.Range(0, o.Layers).Select(_ => new float[batch * h]).ToArray();
        C = Enumerable.Range(0, o.Layers).Select(_ => new float[o.Cell == CellKind.Lstm ? 2 * batch * h : 0]).ToArray();
        Current = new int[o.Layers];
        Gates = new float[batch * o.Gates * h];
    }

    /// <summary>B: the rows each step consumes.</summary>
    public int Batch { get; }

    /// <summary>The threads that share each step (1: the calling thread only).</summary>
    public int Threads => Split?.Threads ?? 1;

    internal Threading.SplitStream? Split { get; }

    internal float[][] H { get; }      // [L][B, H]

    internal float[][] C { get; }      // [L][2, B, H]: c_{t-1} and c_t, alternating

    internal int[] Current { get; }    // which half of C holds c_{t-1}

    internal float[] Gates { get; }    // [B, G·H] scratch

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

    /// <summary>Stops the stream's worker threads, if it has any.</summary>
    public void Dispose() => Split?.Dispose();

    /// <summary>h of layer <paramref name="layer"/>, [B, H].</summary>
    public ReadOnlySpan<float> Hidden(int layer) => Split is { } split ? split.Hidden(layer) : H[layer];

    /// <summary>c of layer <paramref name="layer"/>, [B, H] (empty for an RNN).</summary>
    public ReadOnlySpan<float> Cell(int layer) =>
        Split is { } split ? split.Cell(layer) : C[layer].Length == 0 ? default : C[layer].AsSpan(Current[layer] * H[layer].Length, H[layer].Length);
}

public sealed partial class RecurrentNetwork
{
    /// <summary>A zeroed stream state for <paramref name="batch"/> rows. Streaming runs forward in time only: D must be 1.</summary>
    /// <param name="batch">B: rows per step.</param>
    /// <param name="threads">
    /// Threads that share every step (the calling thread plus <c>threads - 1</c> workers owned by the stream; dispose
    /// it to stop them). Each owns a slice of the hidden units and keeps its weight rows in its own cache. Results are
    /// bitwise the same for every thread count. A small H may give fewer slices, and so fewer threads, than asked
    /// (<see cref="StreamState.Threads"/> says how many).
    /// </param>
    public StreamState CreateStream(int batch = 1, int threads = 1)
    {
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
        return new StreamState(Options, batch, threads > 1 ? new Threading.SplitStream(this, batch, threads) : null);
    }

    /// <summary>
    /// One step of every layer for the stream's B rows: <paramref name="x"/> [B, I] in, <paramref name="y"/> [B, H]
    /// out (the top layer's h). Allocates nothing. Gives bitwise the same values as <see cref="Forward(ReadOnlySpan{float}, int, int, ReadOnlySpan{float}, ReadOnlySpan{float})"/> on the
    /// same inputs.
    /// </summary>
    public void Step(StreamState state, ReadOnlySpan<float> x, Span<float> y)
    {
        ArgumentNullException.ThrowIfNull(state);
        RecurrentOptions o = Options;
        int b = state.Batch, h = o.HiddenSize, gh = o.Gates * h;
        if (state.H.Length != o.Layers || state.Gates.Length != b * gh)
        {
            throw new ArgumentException("The stream state belongs to a network of another shape.", nameof(state));
        }
        if (x.Length != b * o.InputSize)
        {
            ShapeCheck.Exact(x, nameof(x), b, o.InputSize);
        }
        if (y.Length != b * h)
        {
            ShapeCheck.Exact(y, nameof(y), b, h);
        }

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
            StepOnCallingThread(state, x, y);
        }
        // Layer by layer after the step: layer l's h and c are final once layer l has run, so the first non-finite
        // value found here is the first the step made.
        for (int layer = 0; CheckFinite && layer < o.Layers; layer++)
        {
            if (o.Cell == CellKind.Lstm)
            {
                new FiniteProbe("c", layer, 0, step).Rows(state.Cell(layer), b, h, h);
            }
            new FiniteProbe("h", layer, 0, step).Rows(state.Hidden(layer), b, h, h);
        }
    }

    private void StepOnCallingThread(StreamState state, ReadOnlySpan<float> x, Span<float> y)
    {
        RecurrentOptions o = Options;
        int b = state.Batch, h = o.HiddenSize;
        Span<float> gates = state.Gates;
        ReadOnlySpan<float> input = x;
        for (int layer = 0; layer < o.Layers; layer++)
        {
            PackedLayer w = Packed(layer, 0);
            float[] hState = state.H[layer];
            w.InputWeights.Multiply(input, b, w.InputWeights.Columns, gates, w.InputWeights.Rows, accumulate: false, Path); // G = x·W_ihᵀ + b
            w.RecurrentWeights.Multiply(hState, b, h, gates, w.RecurrentWeights.Rows, accumulate: true, Path);               // G += h·W_hhᵀ
            if (o.Cell == CellKind.Lstm)
            {
                int cur = state.Current[layer];
                Span<float> cells = state.C[layer];
                LstmCell.Forward(gates, b, h, cells.Slice(cur * b * h, b * h), cells.Slice((1 - cur) * b * h, b * h), hState, h, o.CellOptions, w.Peepholes, Path);
                state.Current[layer] = 1 - cur;
            }
            else
            {
                RnnCell.Forward(gates, hState, Path);
            }
            input = hState;
        }
        state.Steps++;
        input.CopyTo(y);
    }
}
