using System.Numerics.Tensors;
using Lstm.Simd;

namespace Lstm.Core.Threading;

/// <summary>
/// One layer-direction's backward pass on a team for small batches (B = 1 above all), split by hidden units as the
/// forward pass splits them: member j owns units [Start, Start + Count) of dh and dc. Per step it runs the cell backward
/// on its units (from its own dh, so no wait), which writes its units of dG_t; a barrier, since every unit of
/// dh_{t-1} = dG_t·W_hh reads all of dG_t; then its own columns of that product, from its own columns of W_hh
/// (<see cref="UnitColumns"/>, which stay in its core's cache). One barrier per step. After the last step the weight
/// and bias gradients are split by gate rows and dX by rows, as in <see cref="SplitBackward"/>. Every value is computed
/// by the same elementwise kernels and FMA chains as on one thread, so the result is bitwise the same. Not with
/// peepholes (their gradients sum over the batch in the cell kernel). One instance serves every pass.
/// </summary>
internal sealed class SplitBackwardUnits : ITeamJob
{
    private BackwardJob job;
    private UnitColumns[] columns = [];
    private Member[] members = [];

    // A member's units of every row, gathered dense for the cell kernel ([B, 4·n] gates, [B, n] the rest).
    private sealed class Member(int batch, int gates, int n)
    {
        public readonly float[] Gates = new float[batch * gates * n], DGates = new float[batch * gates * n];
        public readonly float[] CPrev = new float[batch * n], C = new float[batch * n], Dh = new float[batch * n], DhTotal = new float[batch * n], Dc = new float[batch * n];
        public bool Fits(int b, int g, int count) => Dh.Length == b * count && Gates.Length == b * g * count;
    }

    private static long runs;

    /// <summary>Passes run split by units so far, in the whole process (for tests: evidence that the split ran).</summary>
    internal static long Runs => Volatile.Read(ref runs);

    /// <summary>Whether <paramref name="layer"/>'s units split into exactly <paramref name="threads"/> slices.</summary>
    public static bool CanSplit(PackedLayer layer, int threads) => layer.RecurrentColumns(threads).Length == threads;

    public void Run(Team team, in BackwardJob work)
    {
        job = work;
        columns = work.W.RecurrentColumns(team.Size);
        if (members.Length != columns.Length)
        {
            members = new Member[columns.Length];
        }
        for (int j = 0; j < columns.Length; j++)
        {
            if (members[j] is not { } m || !m.Fits(work.Batch, work.O.Gates, columns[j].Count))
            {
                members[j] = new Member(work.Batch, work.O.Gates, columns[j].Count); // once per size: steady-state passes allocate nothing
            }
        }
        Interlocked.Increment(ref runs);
        try
        {
            team.Run(this);
        }
        finally
        {
            job = default;
        }
    }

    /// <summary>Phase p &lt; T: dh of the step before (p &gt; 0), then the cell backward of step T-1-p. Phase T: dh0, dc0 and the weight gradients.</summary>
    public int Phases => job.Steps + 1;

    public void Run(int member, int phase)
    {
        RecurrentOptions o = job.O;
        UnitColumns col = columns[member];
        Member mine = members[member];
        int steps = job.Steps, b = job.Batch, h = o.HiddenSize, gh = o.Gates * h, n = col.Count, start = col.Start, state = job.StateOffset;
        TrainingWorkspace space = job.Space;
        if (phase == 0)
        {
            for (int r = 0; r < b; r++)
            {
                Load(job.HasDhn ? space.Dhn : [], state + (r * h) + start, mine.Dh.AsSpan(r * n, n));
                Load(job.HasDcn ? space.Dcn : [], state + (r * h) + start, mine.Dc.AsSpan(r * n, n));
            }
        }
        else
        {
            int done = steps - phase, tDone = job.Dir == 0 ? done : steps - 1 - done; // the step the previous phase ran
            Gemm.MultiplyByWeights(space.DGates.AsSpan(tDone * b * gh, b * gh), b, gh, col.Weights, mine.Dh, n, path: job.Path); // my units of dh_{t-1} = dG_t·W_hh
        }
        if (phase < steps)
        {
            CellBackward(o, mine, steps - 1 - phase, start, n);
            return;
        }
        for (int r = 0; r < b; r++)
        {
            mine.Dh.AsSpan(r * n, n).CopyTo(space.Dh0.AsSpan(state + (r * h) + start, n));
            if (o.Cell == CellKind.Lstm)
            {
                mine.Dc.AsSpan(r * n, n).CopyTo(space.Dc0.AsSpan(state + (r * h) + start, n));
            }
        }
        int m = steps * b, r1 = job.WantDx ? m : 0, size = columns.Length;
        SequencePass.WeightGradients(o, job.W, m, SplitBackward.PanelShare(gh, member, size), SplitBackward.PanelShare(gh, member + 1, size),
            SplitSequence.Share(r1, member, size), SplitSequence.Share(r1, member + 1, size), job.Buffers(), job.Gradients(), job.Path, space.DGates, space.HPrev);
    }

    // Step s for this member's units: dh_t = dY_t + dh, then dG_t (scattered into every gate's block) and dc_{t-1}.
    private void CellBackward(RecurrentOptions o, Member mine, int s, int start, int n)
    {
        int steps = job.Steps, b = job.Batch, h = o.HiddenSize, gh = o.Gates * h, ldy = o.OutputSize, dir = job.Dir, gates = o.Gates, state = job.StateOffset;
        int t = dir == 0 ? s : steps - 1 - s, tPrev = dir == 0 ? t - 1 : t + 1;
        TrainingTrace trace = job.Trace;
        float[] y = trace.LayerOutputs[job.Layer], g = trace.Gates[job.Slot], c = trace.Cells[job.Slot], dGates = job.Space.DGates;
        bool lstm = o.Cell == CellKind.Lstm;
        for (int r = 0; r < b; r++)
        {
            int row = (t * b) + r;
            TensorPrimitives.Add(job.DY.AsSpan((row * ldy) + (dir * h) + start, n), mine.Dh.AsSpan(r * n, n), mine.DhTotal.AsSpan(r * n, n));
            ReadOnlySpan<float> hp = s == 0 ? trace.H0.AsSpan(state + (r * h) + start, n) : y.AsSpan((((tPrev * b) + r) * ldy) + (dir * h) + start, n);
            hp.CopyTo(job.Space.HPrev.AsSpan((row * h) + start, n));
            if (!lstm)
            {
                RnnActivation.Backward(o, y.AsSpan((row * ldy) + (dir * h) + start, n), mine.DhTotal.AsSpan(r * n, n), dGates.AsSpan((row * gh) + start, n), job.Path); // dG = dh ⊙ (1 - h²), or dh where h > 0
                continue;
            }
            for (int k = 0; k < gates; k++)
            {
                g.AsSpan((row * gh) + (k * h) + start, n).CopyTo(mine.Gates.AsSpan((r * gates * n) + (k * n), n));
            }
            (s == 0 ? trace.C0.AsSpan(state + (r * h) + start, n) : c.AsSpan((((tPrev * b) + r) * h) + start, n)).CopyTo(mine.CPrev.AsSpan(r * n, n));
            c.AsSpan((row * h) + start, n).CopyTo(mine.C.AsSpan(r * n, n));
        }
        if (!lstm)
        {
            return;
        }
        LstmCell.Backward(mine.Gates, b, n, mine.CPrev, mine.C, mine.DhTotal, mine.Dc, mine.DGates, mine.Dc, o.CellOptions, default, default, job.Path);
        for (int r = 0; r < b; r++)
        {
            int row = (t * b) + r;
            for (int k = 0; k < gates; k++)
            {
                mine.DGates.AsSpan((r * gates * n) + (k * n), n).CopyTo(dGates.AsSpan((row * gh) + (k * h) + start, n));
            }
        }
    }

    private static void Load(float[] from, int offset, Span<float> into)
    {
        if (from.Length == 0)
        {
            into.Clear();
        }
        else
        {
            from.AsSpan(offset, into.Length).CopyTo(into);
        }
    }
}
