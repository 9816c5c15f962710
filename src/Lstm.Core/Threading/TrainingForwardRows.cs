using Lstm.Simd;

namespace Lstm.Core.Threading;

/// <summary>
/// A training forward pass of one layer-direction with its batch rows split over a team, as
/// <see cref="SplitSequence"/> does it (the input projection in row chunks, one barrier, then each member's rows through
/// all T steps), but one instance reused for every pass, so a training step allocates no job.
/// </summary>
internal sealed class TrainingForwardRows : ITeamJob
{
    private RecurrentOptions o = null!;
    private PackedLayer w = null!;
    private float[] x = [], y = [], gates = [], cells = [], h0 = [], c0 = [], hn = [], cn = [];
    private int dir, steps, batch, stateOffset, size;
    private SimdPath path;

    public void Run(Team team, RecurrentOptions options, PackedLayer layer, int direction, int steps, int batch, TrainingTrace trace, int slot,
        int stateOffset, SimdPath path)
    {
        int l = slot / options.Directions;
        (o, w, dir, this.steps, this.batch, this.stateOffset, this.path, size) = (options, layer, direction, steps, batch, stateOffset, path, team.Size);
        (x, y, gates, cells, h0, c0, hn, cn) = (trace.LayerInputs[l], trace.LayerOutputs[l], trace.Gates[slot], trace.Cells[slot], trace.H0, trace.C0,
            trace.Result.Hn, trace.Result.Cn);
        try
        {
            team.Run(this);
        }
        finally
        {
            (x, y, gates, cells, h0, c0, hn, cn) = ([], [], [], [], [], [], [], []); // hold no trace between passes
        }
    }

    public int Phases => 2;

    public void Run(int member, int phase)
    {
        int h = o.HiddenSize, state = batch * h;
        bool lstm = o.Cell == CellKind.Lstm;
        var buf = new SequencePass.Buffers
        {
            X = x,
            Y = y,
            Gates = gates,
            C = cells,
            H0 = h0.AsSpan(stateOffset, state),
            C0 = lstm ? c0.AsSpan(stateOffset, state) : default,
            KeepAllC = true,
        };
        if (phase == 0)
        {
            int rows = steps * batch;
            SequencePass.Project(o, w, rows, SplitSequence.Share(rows, member, size), SplitSequence.Share(rows, member + 1, size), buf, path);
            return;
        }
        int b0 = SplitSequence.Share(batch, member, size);
        SequencePass.ForwardSteps(o, w, dir, steps, batch, b0, SplitSequence.Share(batch, member + 1, size) - b0, buf, hn.AsSpan(stateOffset, state),
            lstm ? cn.AsSpan(stateOffset, state) : default, path);
    }
}
