using Lstm.Simd;

namespace Lstm.Core.Threading;

/// <summary>
/// One layer-direction's backward pass on a team, rows split (batches of 16 rows per member and more), the same
/// arithmetic as one thread (<see cref="SequencePass.BackwardSteps"/>, then <see cref="SequencePass.WeightGradients"/>) and so the same bits: each member carries its own batch rows back
/// through all T steps (dh_{t-1} of a row depends only on that row's dG_t), one barrier, then the weight and bias
/// gradients over all T·B rows split by gate rows (each element keeps its one FMA chain over the rows in order) and
/// dX split by rows. Peephole gradients sum over rows, so networks with peepholes stay on one thread. One instance
/// (a <see cref="TrainingWorkspace"/>'s) serves every pass, so a training step allocates no job.
/// </summary>
internal sealed class SplitBackward : ITeamJob
{
    private BackwardJob job;
    private int size;

    public void Run(Team team, in BackwardJob work)
    {
        job = work;
        size = team.Size;
        try
        {
            team.Run(this);
        }
        finally
        {
            job = default; // hold no trace between passes
        }
    }

    /// <summary>Every member's rows back through time; then the gradients over all rows.</summary>
    public int Phases => 2;

    // The same SequencePass code as one thread, on this member's share: batch rows, then gate rows and rows of dX.
    public void Run(int member, int phase)
    {
        RecurrentOptions o = job.O;
        int m = job.Steps * job.Batch, gh = o.Gates * o.HiddenSize;
        SequencePass.Buffers buf = job.Buffers();
        SequencePass.Gradients g = job.Gradients();
        if (phase == 0)
        {
            int b0 = SplitSequence.Share(job.Batch, member, size);
            SequencePass.BackwardSteps(o, job.W, job.Dir, job.Steps, job.Batch, b0, SplitSequence.Share(job.Batch, member + 1, size) - b0, buf, g, job.Path,
                job.Space.DGates, job.Space.HPrev, job.Space.StepScratch);
            return;
        }
        int r1 = job.WantDx ? m : 0;
        SequencePass.WeightGradients(o, job.W, m, PanelShare(gh, member, size), PanelShare(gh, member + 1, size),
            SplitSequence.Share(r1, member, size), SplitSequence.Share(r1, member + 1, size), buf, g, job.Path, job.Space.DGates, job.Space.HPrev);
    }

    // Gate-row boundaries in whole 16-column panels, so each member's dW block starts on a panel.
    internal static int PanelShare(int n, int member, int size) => Math.Min(n, SplitSequence.Share((n + 15) / 16, member, size) * 16);
}

/// <summary>What one layer-direction's backward pass reads and writes, as arrays a team job can hold between its phases.</summary>
internal readonly record struct BackwardJob(RecurrentOptions O, PackedLayer W, int Dir, int Steps, int Batch, TrainingTrace Trace, int Slot,
    int StateOffset, float[] DY, float[] DX, bool WantDx, bool HasDhn, bool HasDcn, float[] DWih, float[] DWhh, float[] DBih, float[] DBhh, float[] DPeep,
    TrainingWorkspace Space, SimdPath Path)
{
    public int Layer => Slot / O.Directions;

    public SequencePass.Buffers Buffers()
    {
        int state = Batch * O.HiddenSize;
        bool lstm = O.Cell == CellKind.Lstm;
        return new SequencePass.Buffers
        {
            X = Trace.LayerInputs[Layer],
            Y = Trace.LayerOutputs[Layer],
            Gates = Trace.Gates[Slot],
            C = Trace.Cells[Slot],
            H0 = Trace.H0.AsSpan(StateOffset, state),
            C0 = lstm ? Trace.C0.AsSpan(StateOffset, state) : default,
            KeepAllC = true,
        };
    }

    public SequencePass.Gradients Gradients()
    {
        int m = Steps * Batch, state = Batch * O.HiddenSize;
        bool lstm = O.Cell == CellKind.Lstm;
        return new SequencePass.Gradients
        {
            DY = DY.AsSpan(0, m * O.OutputSize),
            DX = DX.AsSpan(0, m * W.InputWeights.Columns),
            Dhn = HasDhn ? Space.Dhn.AsSpan(StateOffset, state) : default,
            Dcn = HasDcn ? Space.Dcn.AsSpan(StateOffset, state) : default,
            Dh0 = Space.Dh0.AsSpan(StateOffset, state),
            Dc0 = lstm ? Space.Dc0.AsSpan(StateOffset, state) : default,
            DWih = DWih, DWhh = DWhh, DBih = DBih, DBhh = DBhh, DPeep = DPeep,
        };
    }
}
