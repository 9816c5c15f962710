using Lstm.Simd;

namespace Lstm.Core.Threading;

/// <summary>
/// A training forward pass of one layer-direction split by hidden units for small batches (B = 1 above all), as
/// <see cref="SplitSequence"/> splits an inference pass: member j projects all T steps through its rows of W_ih, then per
/// step adds h_{t-1}·W_hh,jᵀ and runs the cell on its units (one barrier per step, as every member reads all of
/// h_{t-1}). Training also keeps what the backward pass reads, so each member copies its units' gate activations and
/// c_t of every step into the trace. The same kernels on the same rows of the weights, so bitwise one thread's. One
/// instance (a <see cref="TrainingWorkspace"/>'s) with buffers kept per member: a steady-state pass allocates nothing.
/// </summary>
internal sealed class TrainingForwardUnits : ITeamJob
{
    private RecurrentOptions o = null!;
    private TrainingTrace trace = null!;
    private HiddenSlice[] slices = [];
    private float[][] gates = [], cells = [];  // per member: [T·B, G·n] its gates, [2, B, n] c ping-pong
    private int dir, steps, batch, slot, stateOffset;
    private SimdPath path;

    private static long runs;

    /// <summary>Passes run split by units so far, in the whole process (for tests: evidence that the split ran).</summary>
    internal static long Runs => Volatile.Read(ref runs);

    /// <summary>Whether <paramref name="layer"/>'s units split into exactly <paramref name="threads"/> slices.</summary>
    public static bool CanSplit(PackedLayer layer, int threads) => layer.Slices(threads).Length == threads;

    public void Run(Team team, RecurrentOptions options, PackedLayer layer, int direction, int steps, int batch, TrainingTrace trace, int slot,
        int stateOffset, SimdPath path)
    {
        (o, this.trace, dir, this.steps, this.batch, this.slot, this.stateOffset, this.path) = (options, trace, direction, steps, batch, slot, stateOffset, path);
        slices = layer.Slices(team.Size);
        if (gates.Length != slices.Length)
        {
            (gates, cells) = (new float[slices.Length][], new float[slices.Length][]);
        }
        for (int j = 0; j < slices.Length; j++)
        {
            int n = slices[j].Count, gateLength = steps * batch * options.Gates * n, cellLength = options.Cell == CellKind.Lstm ? 2 * batch * n : 0;
            if (gates[j]?.Length != gateLength) gates[j] = new float[gateLength]; // once per shape: steady-state passes allocate nothing
            if (cells[j]?.Length != cellLength) cells[j] = new float[cellLength];
        }
        Interlocked.Increment(ref runs);
        try
        {
            team.Run(this);
        }
        finally
        {
            this.trace = null!; // hold no trace between passes
        }
    }

    /// <summary>One phase per step.</summary>
    public int Phases => steps;

    public void Run(int member, int step)
    {
        HiddenSlice s = slices[member];
        int b = batch, h = o.HiddenSize, n = s.Count, gn = o.Gates * n, gh = o.Gates * h, ldy = o.OutputSize, inSize = s.InputWeights.Columns, layer = slot / o.Directions;
        float[] g = gates[member], c = cells[member], x = trace.LayerInputs[layer], y = trace.LayerOutputs[layer];
        float[] keptGates = trace.Gates[slot], keptCells = trace.Cells[slot];
        bool lstm = o.Cell == CellKind.Lstm;
        if (step == 0)
        {
            s.InputWeights.Multiply(x.AsSpan(0, steps * b * inSize), steps * b, inSize, g, gn, accumulate: false, path); // G_j = X·W_ih,jᵀ + b_j, all steps
            for (int r = 0; r < b && lstm; r++)
            {
                trace.C0.AsSpan(stateOffset + (r * h) + s.Start, n).CopyTo(c.AsSpan(r * n, n));
            }
        }
        int t = dir == 0 ? step : steps - 1 - step, tPrev = dir == 0 ? t - 1 : t + 1, now = step & 1;
        Span<float> gt = g.AsSpan(t * b * gn, b * gn);
        ReadOnlySpan<float> hPrev = step == 0 ? trace.H0.AsSpan(stateOffset, b * h) : y.AsSpan((tPrev * b * ldy) + (dir * h));
        s.RecurrentWeights.Multiply(hPrev, b, step == 0 ? h : ldy, gt, gn, accumulate: true, path); // G_j,t += h_{t-1}·W_hh,jᵀ
        Span<float> ht = y.AsSpan((t * b * ldy) + (dir * h) + s.Start);
        Span<float> cNext = lstm ? c.AsSpan((1 - now) * b * n, b * n) : default;
        if (lstm)
        {
            LstmCell.Forward(gt, b, n, c.AsSpan(now * b * n, b * n), cNext, ht, ldy, o.CellOptions, s.Peepholes, path);
        }
        else
        {
            for (int r = 0; r < b; r++)
            {
                RnnActivation.Forward(o, gt.Slice(r * n, n), ht.Slice(r * ldy, n), path);
            }
        }
        for (int r = 0; r < b; r++)
        {
            int row = (t * b) + r;
            for (int k = 0; k < o.Gates; k++)
            {
                gt.Slice((r * gn) + (k * n), n).CopyTo(keptGates.AsSpan((row * gh) + (k * h) + s.Start, n)); // what the backward pass reads
            }
            if (lstm)
            {
                cNext.Slice(r * n, n).CopyTo(keptCells.AsSpan((row * h) + s.Start, n));
            }
        }
        if (step < steps - 1)
        {
            return;
        }
        int last = dir == 0 ? steps - 1 : 0;
        for (int r = 0; r < b; r++)
        {
            y.AsSpan((((last * b) + r) * ldy) + (dir * h) + s.Start, n).CopyTo(trace.Result.Hn.AsSpan(stateOffset + (r * h) + s.Start, n));
            if (lstm)
            {
                cNext.Slice(r * n, n).CopyTo(trace.Result.Cn.AsSpan(stateOffset + (r * h) + s.Start, n));
            }
        }
    }
}
