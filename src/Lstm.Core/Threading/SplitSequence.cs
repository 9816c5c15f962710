using System.Buffers;
using Lstm.Simd;

namespace Lstm.Core.Threading;

/// <summary>
/// One layer-direction's inference forward pass over a whole sequence on a team, rows in time-major order (t·B + b),
/// the same arithmetic as <see cref="SequencePass.Forward"/> and so the same bits:
/// <list type="bullet">
/// <item>small batches split the hidden units: member j projects all T steps through its rows of W_ih, then per step
/// adds h_{t-1}·W_hh,jᵀ and runs the cell on its units; one barrier per step, as every member reads all of h_{t-1}
/// (two for a GRU with linear_before_reset = 0, whose candidate GEMM reads all of r⊙h');</item>
/// <item>large batches split the rows: the input projection of all T·B rows in row chunks, one barrier, then each
/// member carries its own batch rows through all T steps with no barrier (rows never mix).</item>
/// </list>
/// </summary>
internal sealed class SplitSequence : ITeamJob
{
    /// <summary>At or above this many batch rows per member, split rows rather than hidden units.</summary>
    public const int RowsPerMemberForBatchSplit = 16;

    public required RecurrentOptions O { get; init; }
    public required PackedLayer Layer { get; init; }
    public required int Dir { get; init; }
    public required int Steps { get; init; }
    public required int Batch { get; init; }
    public required float[] X { get; init; }       // [T·B, in]
    public required float[] Y { get; init; }       // [T·B, D·H]; this direction's columns dir·H ..
    public required float[] Gates { get; init; }   // [T·B, G·H] scratch (row split)
    public required float[] C { get; init; }       // [2·B, H] ping-pong scratch, or [T·B, H] every c_t when KeepAllC (row split, LSTM)
    public required float[] H0 { get; init; }      // state arrays and the offset of this slot's [B, H]
    public required float[] C0 { get; init; }
    public required float[] Hn { get; init; }
    public required float[] Cn { get; init; }
    public required int StateOffset { get; init; }
    public required SimdPath Path { get; init; }
    public bool KeepAllC { get; init; }             // training: C keeps c_t of every step for the backward pass

    private HiddenSlice[]? slices;
    private int Size { get; set; } = 1;
    private float[][]? sliceGates;
    private float[][]? sliceCells;
    private float[] resetAll = []; // [B, H]: r⊙h' of every unit at the current step (GRU, linear_before_reset = 0)

    // A GRU with linear_before_reset = 0 reads all of r⊙h' in its candidate GEMM: two phases per step when split by units.
    private bool TwoHalves => O.Cell == CellKind.Gru && !O.LinearBeforeReset;

    public static void Forward(Team team, SplitSequence job)
    {
        job.Size = team.Size;
        if (job.Batch >= RowsPerMemberForBatchSplit * team.Size || job.KeepAllC)
        {
            team.Run(job);
            return;
        }
        job.slices = job.Layer.Slices(team.Size);
        if (job.slices.Length < team.Size)
        {
            throw new InvalidOperationException("The team is larger than the layer's slices."); // callers size teams by slices
        }
        int g = job.O.Gates, rows = job.Steps * job.Batch;
        job.sliceGates = job.slices.Select(s => ArrayPool<float>.Shared.Rent(rows * g * s.Count)).ToArray();
        job.sliceCells = job.slices.Select(s => ArrayPool<float>.Shared.Rent(job.O.Cell switch
        {
            CellKind.Lstm => 2 * job.Batch * s.Count,
            CellKind.Gru => (job.TwoHalves ? 4 : 3) * job.Batch * s.Count, // the recurrent product of a step (and own r⊙h')
            _ => 0,
        })).ToArray();
        job.resetAll = job.TwoHalves ? ArrayPool<float>.Shared.Rent(job.Batch * job.O.HiddenSize) : [];
        try
        {
            team.Run(job);
        }
        finally
        {
            foreach (float[] a in job.sliceGates.Concat(job.sliceCells)) ArrayPool<float>.Shared.Return(a);
            if (job.TwoHalves) ArrayPool<float>.Shared.Return(job.resetAll);
        }
    }

    /// <summary>Units split: one phase per step. Rows split: the input projection, then every member's rows through time.</summary>
    public int Phases => slices is null ? 2 : Steps * (TwoHalves ? 2 : 1);

    public void Run(int member, int phase)
    {
        if (slices is null)
        {
            RunRows(member, phase);
        }
        else if (TwoHalves)
        {
            RunUnitsInHalves(member, phase);
        }
        else
        {
            RunUnits(member, phase);
        }
    }

    private void RunUnits(int member, int step)
    {
        HiddenSlice s = slices![member];
        int b = Batch, h = O.HiddenSize, n = s.Count, gn = O.Gates * n, ldy = O.OutputSize, inSize = s.InputWeights.Columns;
        float[] g = sliceGates![member], c = sliceCells![member];
        bool lstm = O.Cell == CellKind.Lstm;
        if (step == 0)
        {
            s.InputWeights.Multiply(X.AsSpan(0, Steps * b * inSize), Steps * b, inSize, g, gn, accumulate: false, Path); // G_j = X·W_ih,jᵀ + b_j, all steps
            for (int r = 0; r < b && lstm; r++)
            {
                C0.AsSpan(StateOffset + (r * h) + s.Start, n).CopyTo(c.AsSpan(r * n, n));
            }
        }
        int t = Dir == 0 ? step : Steps - 1 - step, tPrev = Dir == 0 ? t - 1 : t + 1, now = step & 1;
        Span<float> gt = g.AsSpan(t * b * gn, b * gn);
        ReadOnlySpan<float> hPrev = step == 0 ? H0.AsSpan(StateOffset, b * h) : Y.AsSpan((tPrev * b * ldy) + (Dir * h));
        if (O.Cell != CellKind.Gru) // a GRU's recurrent product goes to a buffer of its own, below
        {
            s.RecurrentWeights.Multiply(hPrev, b, step == 0 ? h : ldy, gt, gn, accumulate: true, Path); // G_j,t += h_{t-1}·W_hh,jᵀ
        }
        Span<float> ht = Y.AsSpan((t * b * ldy) + (Dir * h) + s.Start);
        if (O.Cell == CellKind.Gru)
        {
            ReadOnlySpan<float> hp = step == 0 ? H0.AsSpan(StateOffset, b * h) : Y.AsSpan((tPrev * b * ldy) + (Dir * h), ((b - 1) * ldy) + h);
            int ldp = step == 0 ? h : ldy;
            s.RecurrentWeights.Multiply(hp, b, ldp, c.AsSpan(0, b * gn), gn, accumulate: false, Path); // H_j,t = h_{t-1}·W_hh,jᵀ
            GruCell.Forward(gt, c.AsSpan(0, b * gn), s.HiddenBias, b, n, hp[s.Start..], ldp, ht[..(((b - 1) * ldy) + n)], ldy, default, Path);
        }
        else if (lstm)
        {
            LstmCell.Forward(gt, b, n, c.AsSpan(now * b * n, b * n), c.AsSpan((1 - now) * b * n, b * n), ht, ldy, O.CellOptions, s.Peepholes, Path);
        }
        else
        {
            for (int r = 0; r < b; r++)
            {
                RnnCell.Forward(gt.Slice(r * n, n), ht.Slice(r * ldy, n), Path);
            }
        }
        if (step < Steps - 1)
        {
            return;
        }
        int last = Dir == 0 ? Steps - 1 : 0, final = Steps & 1;
        for (int r = 0; r < b; r++)
        {
            Y.AsSpan((((last * b) + r) * ldy) + (Dir * h) + s.Start, n).CopyTo(Hn.AsSpan(StateOffset + (r * h) + s.Start, n));
            if (lstm)
            {
                c.AsSpan((final * b * n) + (r * n), n).CopyTo(Cn.AsSpan(StateOffset + (r * h) + s.Start, n));
            }
        }
    }

    // Units split of a GRU with linear_before_reset = 0: phase 2s gives r, z and this slice's r⊙h' of step s, phase 2s + 1
    // (after the barrier: all of r⊙h' is there) the slice's n and h.
    private void RunUnitsInHalves(int member, int phase)
    {
        HiddenSlice s = slices![member];
        int b = Batch, h = O.HiddenSize, n = s.Count, gn = 3 * n, ldy = O.OutputSize, inSize = s.InputWeights.Columns, step = phase / 2;
        float[] g = sliceGates![member], c = sliceCells![member];
        if (phase == 0)
        {
            s.InputWeights.Multiply(X.AsSpan(0, Steps * b * inSize), Steps * b, inSize, g, gn, accumulate: false, Path); // G_j = X·W_ih,jᵀ + b_j, all steps
        }
        int t = Dir == 0 ? step : Steps - 1 - step, tPrev = Dir == 0 ? t - 1 : t + 1;
        Span<float> gt = g.AsSpan(t * b * gn, b * gn), hidden = c.AsSpan(0, b * gn);
        ReadOnlySpan<float> hp = step == 0 ? H0.AsSpan(StateOffset, b * h) : Y.AsSpan((tPrev * b * ldy) + (Dir * h), ((b - 1) * ldy) + h);
        int ldp = step == 0 ? h : ldy;
        if (phase % 2 == 0)
        {
            GruPass.SliceResetGates(s, b, h, hp, ldp, gt, hidden, c.AsSpan(b * gn, b * n), resetAll, Path);
            return;
        }
        GruPass.SliceCandidate(s, b, h, hp, ldp, gt, hidden, resetAll.AsSpan(0, b * h), Y.AsSpan((t * b * ldy) + (Dir * h) + s.Start), ldy, Path);
        if (step < Steps - 1)
        {
            return;
        }
        int last = Dir == 0 ? Steps - 1 : 0;
        for (int r = 0; r < b; r++)
        {
            Y.AsSpan((((last * b) + r) * ldy) + (Dir * h) + s.Start, n).CopyTo(Hn.AsSpan(StateOffset + (r * h) + s.Start, n));
        }
    }

    // Rows split: the same SequencePass code as one thread, on this member's share of the rows.
    private void RunRows(int member, int phase)
    {
        int h = O.HiddenSize, state = Batch * h;
        var buf = new SequencePass.Buffers
        {
            X = X,
            Y = Y,
            Gates = Gates,
            C = C,
            H0 = H0.AsSpan(StateOffset, state),
            C0 = O.Cell == CellKind.Lstm ? C0.AsSpan(StateOffset, state) : default,
            KeepAllC = KeepAllC,
        };
        if (phase == 0)
        {
            int rows = Steps * Batch;
            SequencePass.Project(O, Layer, rows, Share(rows, member, Size), Share(rows, member + 1, Size), buf, Path); // a chunk of all T·B rows
            return;
        }
        int b0 = Share(Batch, member, Size);
        SequencePass.ForwardSteps(O, Layer, Dir, Steps, Batch, b0, Share(Batch, member + 1, Size) - b0, buf, Hn.AsSpan(StateOffset, state),
            O.Cell == CellKind.Lstm ? Cn.AsSpan(StateOffset, state) : default, Path);
    }

    /// <summary>Where member j's share of n items starts: ⌊n·j / size⌋.</summary>
    internal static int Share(int n, int member, int size) => (int)((long)n * member / size);
}
