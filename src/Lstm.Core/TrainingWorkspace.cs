namespace Lstm.Core;

/// <summary>
/// Every buffer a training forward and backward pass needs besides the trace's own, sized once for one network and
/// one (steps, batch): the gradients flowing down between layers, dG and h_{t-1} of all steps (for the weight-gradient
/// GEMMs), the running dh and dc, dh0 and dc0, copies of dhn and dcn, and the team jobs. Reused by every pass that
/// gets it, so a steady-state training step allocates nothing; one pass at a time.
/// </summary>
internal sealed class TrainingWorkspace
{
    public TrainingWorkspace(RecurrentOptions o, int steps, int batch)
    {
        int rows = steps * batch, h = o.HiddenSize, state = o.Directions * o.Layers * batch * h;
        int width = Math.Max(o.OutputSize, o.InputSize); // every layer's input is I or D·H wide, its output D·H
        Options = o;
        Steps = steps;
        Batch = batch;
        DAbove = new float[rows * width];
        DBelow = new float[rows * width];
        DGates = new float[SequencePass.GateGradientLength(o, rows)];
        HPrev = new float[rows * h];
        StepScratch = new float[3 * batch * h];
        Dh0 = new float[state];
        Dc0 = o.Cell == CellKind.Lstm ? new float[state] : [];
        Dhn = new float[state];
        Dcn = o.Cell == CellKind.Lstm ? new float[state] : [];
    }

    public RecurrentOptions Options { get; }

    public int Steps { get; }

    public int Batch { get; }

    public float[] DAbove { get; }      // [T·B, D·H or I]: the gradient reaching a layer's output, then its input

    public float[] DBelow { get; }      // the same, ping-pong

    public float[] DGates { get; }      // [T·B, G·H] (a GRU: twice that, see SequencePass.GateGradientLength)

    public float[] HPrev { get; }       // [T·B, H]

    public float[] StepScratch { get; } // [3, B, H]: dh, dh + dY, dc

    public float[] Dh0 { get; }         // [D·L, B, H]

    public float[] Dc0 { get; }

    public float[] Dhn { get; }         // the caller's dhn, as an array a team job can hold

    public float[] Dcn { get; }

    public Threading.SplitBackward RowsBackward { get; } = new();

    public Threading.SplitBackwardUnits UnitsBackward { get; } = new();

    public Threading.TrainingForwardRows RowsForward { get; } = new();

    public Threading.TrainingForwardUnits UnitsForward { get; } = new();

    public bool Fits(RecurrentOptions o, int steps, int batch) => ReferenceEquals(o, Options) && steps == Steps && batch == Batch;
}
