namespace Lstm.Core;

public sealed partial class RecurrentNetwork
{
    // An LSTM with projections: h (h0, hn, y) P wide and c (c0, cn) H wide, on one thread (Threads is not used);
    // ProjectionPass does the layer-direction work, on the live rows only with lengths. The forward pass is
    // ForwardLayer's (RecurrentNetwork.Forward.cs).
    private InputGradients BackwardProjected(TrainingTrace trace, ReadOnlySpan<float> dy, ReadOnlySpan<float> dhn, ReadOnlySpan<float> dcn, ParameterSet gradients)
    {
        ArgumentNullException.ThrowIfNull(gradients);
        CheckGradientShapes(trace, dy, dhn, dcn, gradients);
        RecurrentOptions o = Options;
        int steps = trace.Steps, batch = trace.Batch, l = o.Layers, d = o.Directions, h = o.HiddenSize, p = o.ProjectionSize, rows = steps * batch;
        float[] dh0 = new float[d * l * batch * p], dc0 = new float[d * l * batch * h];
        float[] dAbove = new float[rows * o.OutputSize];
        Layout.ToTimeMajor(dy, steps, batch, o.OutputSize, o.BatchFirst, dAbove);
        Packing? packing = trace.Packing;
        if (packing is not null)
        {
            // Into the trace's sorted row order; dhn and dcn as sorted copies.
            packing.SortRows(dAbove, o.OutputSize);
            float[] sortedDhn = dhn.ToArray(), sortedDcn = dcn.ToArray();
            packing.SortRows(sortedDhn, p);
            packing.SortRows(sortedDcn, h);
            dhn = sortedDhn;
            dcn = sortedDcn;
        }
        for (int layer = l - 1; layer >= 0; layer--)
        {
            if (layer < l - 1 && trace.DropoutMasks[layer] is { } mask)
            {
                System.Numerics.Tensors.TensorPrimitives.Multiply(dAbove, mask, dAbove); // through the dropout mask
            }
            float[] dx = new float[rows * o.LayerInputSize(layer)];
            for (int dir = 0; dir < d; dir++)
            {
                int slot = (layer * d) + dir;
                var buffers = new ProjectionPass.Buffers
                {
                    X = trace.LayerInputs[layer],
                    Y = trace.LayerOutputs[layer],
                    Gates = trace.Gates[slot],
                    C = trace.Cells[slot],
                    Raw = trace.RawHidden[slot],
                    H0 = trace.H0.AsSpan(slot * batch * p, batch * p),
                    C0 = trace.C0.AsSpan(slot * batch * h, batch * h),
                };
                var grads = new ProjectionPass.Gradients
                {
                    DY = dAbove,
                    DX = dx,
                    Dhn = dhn.IsEmpty ? default : dhn.Slice(slot * batch * p, batch * p),
                    Dcn = dcn.IsEmpty ? default : dcn.Slice(slot * batch * h, batch * h),
                    Dh0 = dh0.AsSpan(slot * batch * p, batch * p),
                    Dc0 = dc0.AsSpan(slot * batch * h, batch * h),
                    DWih = gradients.Get(layer, dir, ParameterRole.WeightIh),
                    DWhh = gradients.Get(layer, dir, ParameterRole.WeightHh),
                    DBih = gradients.GetOrEmpty(layer, dir, ParameterRole.BiasIh),
                    DBhh = gradients.GetOrEmpty(layer, dir, ParameterRole.BiasHh),
                    DWhr = gradients.Get(layer, dir, ParameterRole.Projection),
                };
                if (packing is not null)
                {
                    ProjectionPass.BackwardPacked(o, Packed(layer, dir), dir, steps, batch, packing.Alive, buffers, grads, KernelPath);
                    continue;
                }
                ProjectionPass.Backward(o, Packed(layer, dir), dir, steps, batch, buffers, grads, KernelPath);
            }
            dAbove = dx;
        }
        if (packing is not null)
        {
            packing.UnsortRows(dAbove, o.InputSize);
            packing.UnsortRows(dh0, p);
            packing.UnsortRows(dc0, h);
        }
        return new InputGradients(Layout.FromTimeMajor(dAbove, steps, batch, o.InputSize, o.BatchFirst), dh0, dc0);
    }
}
