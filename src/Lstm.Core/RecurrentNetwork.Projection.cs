using Lstm.Core.Threading;

namespace Lstm.Core;

public sealed partial class RecurrentNetwork
{
    // An LSTM with projections: h (h0, hn, y) P wide and c (c0, cn) H wide, on one thread (Threads is not used);
    // ProjectionPass does the layer-direction work, on the live rows only with lengths. The forward pass is
    // ForwardLayer's (RecurrentNetwork.Forward.cs); this is BackwardLayer's (RecurrentNetwork.Training.cs), on the
    // job's trace and workspace, whose states are H wide (P of them used for h).
    private static void BackwardProjectedLayer(in BackwardJob job, float[] dWhr)
    {
        RecurrentOptions o = job.O;
        int h = o.HiddenSize, p = o.ProjectionSize, b = job.Batch, m = job.Steps * b, layer = job.Layer, slot = job.Slot;
        int hOffset = slot * b * p, cOffset = slot * b * h;
        TrainingTrace trace = job.Trace;
        TrainingWorkspace space = job.Space;
        var buffers = new ProjectionPass.Buffers
        {
            X = trace.LayerInputs[layer],
            Y = trace.LayerOutputs[layer],
            Gates = trace.Gates[slot],
            C = trace.Cells[slot],
            Raw = trace.RawHidden[slot],
            H0 = trace.H0.AsSpan(hOffset, b * p),
            C0 = trace.C0.AsSpan(cOffset, b * h),
        };
        var grads = new ProjectionPass.Gradients
        {
            DY = job.DY.AsSpan(0, m * o.OutputSize),
            DX = job.DX.AsSpan(0, m * o.LayerInputSize(layer)),
            Dhn = job.HasDhn ? space.Dhn.AsSpan(hOffset, b * p) : default,
            Dcn = job.HasDcn ? space.Dcn.AsSpan(cOffset, b * h) : default,
            Dh0 = space.Dh0.AsSpan(hOffset, b * p),
            Dc0 = space.Dc0.AsSpan(cOffset, b * h),
            DWih = job.DWih,
            DWhh = job.DWhh,
            DBih = job.DBih,
            DBhh = job.DBhh,
            DWhr = dWhr,
        };
        if (trace.Packing is { } packing)
        {
            ProjectionPass.BackwardPacked(o, job.W, job.Dir, job.Steps, b, packing.Alive, buffers, grads, job.Path);
            return;
        }
        ProjectionPass.Backward(o, job.W, job.Dir, job.Steps, b, buffers, grads, job.Path);
    }
}
