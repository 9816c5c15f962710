namespace Lstm.Core;

public sealed partial class RecurrentNetwork
{
    // An LSTM with projections: the same contract as Run, with h (h0, hn, y) P wide and c (c0, cn) H wide. One thread
    // (Threads is not used); ProjectionPass does the layer-direction work, on the live rows only with lengths.
    private TrainingTrace RunProjected(ReadOnlySpan<float> x, int steps, int batch, ReadOnlySpan<float> h0, ReadOnlySpan<float> c0, bool training,
        float dropout, Training.SeededRandom? random, Destination into, Packing? packing)
    {
        RecurrentOptions o = Options;
        int l = o.Layers, d = o.Directions, h = o.HiddenSize, p = o.ProjectionSize, gh = o.Gates * h;
        int rows = ShapeCheck.Elements(nameof(steps), "the rows steps × batch", steps, batch);
        ShapeCheck.Elements(nameof(steps), "the gate buffer steps × batch × gates·hidden", steps, batch, gh);
        ShapeCheck.Elements(nameof(batch), "the states directions·layers × batch × hidden", d * l, batch, h);
        ShapeCheck.Exact(x, nameof(x), o.BatchFirst ? [batch, steps, o.InputSize] : [steps, batch, o.InputSize]);
        ShapeCheck.ExactOrEmpty(h0, nameof(h0), d * l, batch, p);
        ShapeCheck.ExactOrEmpty(c0, nameof(c0), d * l, batch, h);
        float[] h0All = h0.IsEmpty ? new float[d * l * batch * p] : h0.ToArray();
        float[] c0All = c0.IsEmpty ? new float[d * l * batch * h] : c0.ToArray();
        float[] hn = new float[d * l * batch * p], cn = new float[d * l * batch * h];
        if (CheckFinite)
        {
            new FiniteProbe(nameof(h0), 0, 0, -1).Rows(h0All, d * l * batch, p, p);
            new FiniteProbe(nameof(c0), 0, 0, -1).Rows(c0All, d * l * batch, h, h);
        }
        var inputs = new float[l][];
        var outputs = new float[l][];
        var gates = new float[l * d][];
        var cells = new float[l * d][];
        var raws = new float[l * d][];
        var masks = new float[l][];
        float[] input = new float[rows * o.InputSize];
        Layout.ToTimeMajor(x, steps, batch, o.InputSize, o.BatchFirst, input);
        if (packing is not null)
        {
            packing.SortRows(input, o.InputSize); // [T, B, I] as [T·B] rows of I: each step's rows sorted
            packing.SortRows(h0All, p);
            packing.SortRows(c0All, h);
        }
        for (int t = 0; CheckFinite && t < steps; t++) // with lengths, the valid rows only
        {
            new FiniteProbe(nameof(x), 0, 0, t, packing?.Order).Rows(input.AsSpan(t * batch * o.InputSize), packing?.Alive[t] ?? batch, o.InputSize, o.InputSize);
        }
        for (int layer = 0; layer < l; layer++)
        {
            int n = rows * o.OutputSize;
            float[] y = new float[n];
            inputs[layer] = input;
            outputs[layer] = y;
            for (int dir = 0; dir < d; dir++)
            {
                int slot = (layer * d) + dir;
                gates[slot] = new float[rows * gh];
                cells[slot] = new float[rows * h];
                raws[slot] = new float[rows * h];
                var buffers = new ProjectionPass.Buffers
                {
                    X = input,
                    Y = y,
                    Gates = gates[slot],
                    C = cells[slot],
                    Raw = raws[slot],
                    H0 = h0All.AsSpan(slot * batch * p, batch * p),
                    C0 = c0All.AsSpan(slot * batch * h, batch * h),
                };
                if (packing is not null)
                {
                    ProjectionPass.ForwardPacked(o, Packed(layer, dir), dir, steps, batch, packing.Alive, buffers, hn.AsSpan(slot * batch * p, batch * p),
                        cn.AsSpan(slot * batch * h, batch * h), KernelPath, CheckFinite ? layer : -1, packing.Order);
                    continue;
                }
                ProjectionPass.Forward(o, Packed(layer, dir), dir, steps, batch, buffers, hn.AsSpan(slot * batch * p, batch * p),
                    cn.AsSpan(slot * batch * h, batch * h), KernelPath, CheckFinite ? layer : -1);
            }
            input = y;
            if (dropout > 0 && layer < l - 1)
            {
                float kept = 1 / (1 - dropout);
                masks[layer] = new float[n];
                input = new float[n];
                for (int i = 0; i < n; i++)
                {
                    masks[layer][i] = random!.NextDouble() < dropout ? 0f : kept;
                    input[i] = y[i] * masks[layer][i];
                }
            }
        }
        float[] top = outputs[l - 1];
        if (packing is not null)
        {
            // The results in the caller's row order; the trace keeps its buffers sorted for the backward pass.
            top = packing.FromSorted(top, steps, o.OutputSize, [], [], 1);
            packing.UnsortRows(hn, p);
            packing.UnsortRows(cn, h);
        }
        if (into.IsSet)
        {
            Layout.FromTimeMajor(top, steps, batch, o.OutputSize, o.BatchFirst, into.Output);
            hn.CopyTo(into.Hn);
            cn.CopyTo(into.Cn);
            return new TrainingTrace(steps, batch, new SequenceOutput([], [], []), [], [], [], [], [], []);
        }
        var result = new SequenceOutput(Layout.FromTimeMajor(top, steps, batch, o.OutputSize, o.BatchFirst), hn, cn);
        return training
            ? new TrainingTrace(steps, batch, result, inputs, outputs, gates, cells, h0All, c0All) { DropoutMasks = masks, RawHidden = raws, Packing = packing }
            : new TrainingTrace(steps, batch, result, [], [], [], [], [], []);
    }

    private InputGradients BackwardProjected(TrainingTrace trace, ReadOnlySpan<float> dy, ReadOnlySpan<float> dhn, ReadOnlySpan<float> dcn, ParameterSet gradients)
    {
        RecurrentOptions o = Options;
        int steps = trace.Steps, batch = trace.Batch, l = o.Layers, d = o.Directions, h = o.HiddenSize, p = o.ProjectionSize, rows = steps * batch;
        if (trace.LayerOutputs.Length != l || gradients.Infos.Count != parameters.Infos.Count)
        {
            throw new ArgumentException("The trace or the gradients belong to a network of another shape.", nameof(trace));
        }
        ShapeCheck.Exact(dy, nameof(dy), o.BatchFirst ? [batch, steps, o.OutputSize] : [steps, batch, o.OutputSize]);
        ShapeCheck.ExactOrEmpty(dhn, nameof(dhn), d * l, batch, p);
        ShapeCheck.ExactOrEmpty(dcn, nameof(dcn), d * l, batch, h);
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
