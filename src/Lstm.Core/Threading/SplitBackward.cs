using System.Buffers;
using Lstm.Simd;

namespace Lstm.Core.Threading;

/// <summary>
/// One layer-direction's backward pass on a team, rows split (batches of 16 rows per member and more), the same
/// arithmetic as <see cref="SequencePass.Backward"/> and so the same bits: each member carries its own batch rows back
/// through all T steps (dh_{t-1} of a row depends only on that row's dG_t), one barrier, then the weight and bias
/// gradients over all T·B rows split by gate rows (each element keeps its one FMA chain over the rows in order) and
/// dX split by rows. Peephole gradients sum over rows, so networks with peepholes stay on one thread.
/// </summary>
internal sealed class SplitBackward : ITeamJob
{
    private RecurrentOptions o = null!;
    private PackedLayer w = null!;
    private TrainingTrace trace = null!;
    private int dir, steps, batch, slot, stateOffset, size;
    private float[] dy = [], dx = [], dhn = [], dcn = [], dh0 = [], dc0 = [], dGates = [], hPrev = [];
    private float[] dWih = [], dWhh = [], dBih = [], dBhh = [];
    private SimdPath path;

    public static void Run(Team team, RecurrentOptions o, PackedLayer w, int dir, int steps, int batch, TrainingTrace trace, int slot, float[] dy, float[] dx,
        ReadOnlySpan<float> dhn, ReadOnlySpan<float> dcn, float[] dh0, float[] dc0, int stateOffset, SequencePass.Gradients g, SimdPath path)
    {
        int h = o.HiddenSize, rows = steps * batch;
        var job = new SplitBackward
        {
            o = o, w = w, trace = trace, dir = dir, steps = steps, batch = batch, slot = slot, stateOffset = stateOffset, dy = dy, dx = dx,
            dhn = dhn.IsEmpty ? [] : dhn.ToArray(), dcn = dcn.IsEmpty ? [] : dcn.ToArray(),
            dh0 = dh0, dc0 = dc0, dWih = g.DWih, dWhh = g.DWhh, dBih = g.DBih, dBhh = g.DBhh, path = path,
            dGates = ArrayPool<float>.Shared.Rent(SequencePass.GateGradientLength(o, rows)), hPrev = ArrayPool<float>.Shared.Rent(rows * h), size = team.Size,
        };
        try
        {
            team.Run(job);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(job.dGates);
            ArrayPool<float>.Shared.Return(job.hPrev);
        }
    }

    /// <summary>Every member's rows back through time; then the gradients over all rows.</summary>
    public int Phases => 2;

    // The same SequencePass code as one thread, on this member's share: batch rows, then gate rows and rows of dX.
    public void Run(int member, int phase)
    {
        int h = o.HiddenSize, state = batch * h, layer = slot / o.Directions, m = steps * batch, gh = o.Gates * h;
        bool lstm = o.Cell == CellKind.Lstm;
        var buf = new SequencePass.Buffers
        {
            X = trace.LayerInputs[layer],
            Y = trace.LayerOutputs[layer],
            Gates = trace.Gates[slot],
            C = trace.Cells[slot],
            H0 = trace.H0.AsSpan(stateOffset, state),
            C0 = lstm ? trace.C0.AsSpan(stateOffset, state) : default,
            KeepAllC = true,
        };
        var g = new SequencePass.Gradients
        {
            DY = dy.AsSpan(0, m * o.OutputSize),
            DX = dx.AsSpan(0, m * w.InputWeights.Columns),
            Dhn = dhn,
            Dcn = dcn,
            Dh0 = dh0.AsSpan(stateOffset, state),
            Dc0 = lstm ? dc0.AsSpan(stateOffset, state) : default,
            DWih = dWih, DWhh = dWhh, DBih = dBih, DBhh = dBhh, DPeep = [],
        };
        if (phase == 0)
        {
            int b0 = SplitSequence.Share(batch, member, size);
            SequencePass.BackwardSteps(o, w, dir, steps, batch, b0, SplitSequence.Share(batch, member + 1, size) - b0, buf, g, path, dGates, hPrev);
            return;
        }
        SequencePass.WeightGradients(o, w, m, PanelShare(gh, member, size), PanelShare(gh, member + 1, size),
            SplitSequence.Share(m, member, size), SplitSequence.Share(m, member + 1, size), buf, g, path, dGates, hPrev);
    }

    // Gate-row boundaries in whole 16-column panels, so each member's dW block starts on a panel.
    private static int PanelShare(int n, int member, int size) => Math.Min(n, SplitSequence.Share((n + 15) / 16, member, size) * 16);
}
