namespace Lstm.Core;

/// <summary>
/// The sequence entry points: each checks its arguments (<see cref="CheckSequenceShapes"/>), then runs the inference pass
/// or the training pass of RecurrentNetwork.Forward.cs, or the backward pass of RecurrentNetwork.Training.cs (the
/// entry points with lengths: RecurrentNetwork.Lengths.cs).
/// </summary>
public sealed partial class RecurrentNetwork
{
    /// <summary>
    /// Runs the whole sequence and keeps nothing. <paramref name="x"/> is [T, B, I] (or [B, T, I] when batch-first);
    /// <paramref name="h0"/>, <paramref name="c0"/> are [D·L, B, H] or empty for zeros.
    /// </summary>
    public SequenceOutput Forward(ReadOnlySpan<float> x, int steps, int batch, ReadOnlySpan<float> h0 = default, ReadOnlySpan<float> c0 = default) =>
        Infer(x, steps, batch, h0, c0, packing: null);

    /// <summary>
    /// <see cref="Forward(ReadOnlySpan{float}, int, int, ReadOnlySpan{float}, ReadOnlySpan{float})"/> into the caller's
    /// buffers: <paramref name="output"/> [T, B, D·H] (or [B, T, D·H] batch-first), <paramref name="hn"/> and
    /// <paramref name="cn"/> [D·L, B, H] (<paramref name="cn"/> empty for an RNN). Every other buffer is pooled, so
    /// repeated calls do not churn the large-object heap; the same values, bit for bit.
    /// </summary>
    public void Forward(ReadOnlySpan<float> x, int steps, int batch, Span<float> output, Span<float> hn, Span<float> cn,
        ReadOnlySpan<float> h0 = default, ReadOnlySpan<float> c0 = default)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        RecurrentOptions o = Options;
        ShapeCheck.NonNegative(steps, nameof(steps));
        ShapeCheck.NonNegative(batch, nameof(batch));
        ShapeCheck.Elements(nameof(steps), "the output steps × batch × directions·hidden", steps, batch, o.OutputSize);
        ShapeCheck.Exact(output, nameof(output), o.BatchFirst ? [batch, steps, o.OutputSize] : [steps, batch, o.OutputSize]);
        ShapeCheck.Exact(hn, nameof(hn), o.Directions * o.Layers, batch, o.HiddenStateSize);
        if (o.Cell == CellKind.Lstm)
        {
            ShapeCheck.Exact(cn, nameof(cn), o.Directions * o.Layers, batch, o.HiddenSize);
        }
        else if (!cn.IsEmpty)
        {
            throw new ArgumentException($"{NoCellState(o)}; cn must be empty.", nameof(cn));
        }
        CheckSequenceShapes(x, steps, batch, h0, c0);
        float[] hnAll = new float[hn.Length], cnAll = new float[cn.Length];
        ForwardInference(x, steps, batch, h0, c0, packing: null, resultOutput: null, output, hnAll, cnAll);
        hnAll.CopyTo(hn);
        cnAll.CopyTo(cn);
    }

    /// <summary>
    /// Runs the whole sequence and keeps what <see cref="Backward(TrainingTrace, ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, ParameterSet)"/> needs. With <paramref name="dropout"/> &gt; 0, each
    /// layer's output except the last is multiplied by a mask of 0 and 1/(1 - p) drawn from <paramref name="random"/>
    /// before the next layer reads it (inverted dropout; training only).
    /// </summary>
    public TrainingTrace ForwardTraining(ReadOnlySpan<float> x, int steps, int batch, ReadOnlySpan<float> h0 = default, ReadOnlySpan<float> c0 = default,
        float dropout = 0, Training.SeededRandom? random = null)
    {
        ThrowUnlessFloat32(nameof(ForwardTraining));
        CheckDropout(dropout, random);
        return Train(x, steps, batch, h0, c0, dropout, random, packing: null);
    }

    // Checks, then the inference pass into fresh result arrays.
    private SequenceOutput Infer(ReadOnlySpan<float> x, int steps, int batch, ReadOnlySpan<float> h0, ReadOnlySpan<float> c0, Packing? packing)
    {
        CheckSequenceShapes(x, steps, batch, h0, c0);
        RecurrentOptions o = Options;
        int states = o.Directions * o.Layers * batch;
        float[] output = new float[steps * batch * o.OutputSize];
        float[] hn = new float[states * o.HiddenStateSize], cn = o.HasCellState ? new float[states * o.HiddenSize] : [];
        ForwardInference(x, steps, batch, h0, c0, packing, resultOutput: output, output, hn, cn);
        return new SequenceOutput(output, hn, cn)
        {
            OutputLengths = o.BatchFirst ? [batch, steps, o.OutputSize] : [steps, batch, o.OutputSize],
            StateLengths = [o.Directions * o.Layers, batch, o.HiddenStateSize],
            CellLengths = [o.Directions * o.Layers, batch, o.HiddenSize],
        };
    }

    // Checks, then the training pass into a trace whose buffers are pooled (given back on Dispose).
    private TrainingTrace Train(ReadOnlySpan<float> x, int steps, int batch, ReadOnlySpan<float> h0, ReadOnlySpan<float> c0, float dropout,
        Training.SeededRandom? random, Packing? packing)
    {
        CheckSequenceShapes(x, steps, batch, h0, c0);
        // The projection passes index whole arrays, so they get exact ones; the others take pooled ones.
        TrainingTrace trace = NewTrace(steps, batch, Options.ProjectionSize > 0 ? BufferSource.Owned : BufferSource.Pooled, packing, owned: false);
        bool done = false;
        try
        {
            ForwardTrainingPass(trace, x, h0, c0, dropout, random);
            done = true;
            return trace;
        }
        finally
        {
            if (!done)
            {
                trace.Dispose();
            }
        }
    }

    /// <summary>
    /// Every check of a sequence pass's sizes and inputs, before anything is allocated: the largest buffers a pass
    /// allocates must fit an array (the gate pre-activations [T·B, G·H], each layer's output [T·B, D·H'] and input,
    /// the states [D·L, B, H]); x is [T, B, I] (or [B, T, I]), h0 [D·L, B, H'] and c0 [D·L, B, H] or empty
    /// (H' = P with projections, else H).
    /// </summary>
    private void CheckSequenceShapes(ReadOnlySpan<float> x, int steps, int batch, ReadOnlySpan<float> h0, ReadOnlySpan<float> c0)
    {
        CheckSequenceSizes(steps, batch, checkInput: false); // x's own check covers the input
        CheckSequenceInputs(x, steps, batch, h0, c0);
    }

    private int CheckSequenceSizes(int steps, int batch, bool checkInput)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        RecurrentOptions o = Options;
        ShapeCheck.NonNegative(steps, nameof(steps));
        ShapeCheck.NonNegative(batch, nameof(batch));
        int rows = ShapeCheck.Elements(nameof(steps), "the rows steps × batch", steps, batch);
        ShapeCheck.Elements(nameof(steps), "the gate buffer steps × batch × gates·hidden", steps, batch, o.Gates * o.HiddenSize);
        ShapeCheck.Elements(nameof(steps), "a layer's output steps × batch × directions·hidden", steps, batch, o.OutputSize);
        if (checkInput)
        {
            ShapeCheck.Elements(nameof(steps), "the input steps × batch × input", steps, batch, o.InputSize);
        }
        ShapeCheck.Elements(nameof(batch), "the states directions·layers × batch × hidden", o.Directions * o.Layers, batch, o.HiddenSize);
        return rows;
    }

    private void CheckSequenceInputs(ReadOnlySpan<float> x, int steps, int batch, ReadOnlySpan<float> h0, ReadOnlySpan<float> c0)
    {
        RecurrentOptions o = Options;
        int states = o.Directions * o.Layers;
        ShapeCheck.Exact(x, nameof(x), o.BatchFirst ? [batch, steps, o.InputSize] : [steps, batch, o.InputSize]);
        ShapeCheck.ExactOrEmpty(h0, nameof(h0), states, batch, o.HiddenStateSize);
        ShapeCheck.ExactOrEmpty(c0, nameof(c0), states, batch, o.HiddenSize);
        if (!o.HasCellState && !c0.IsEmpty)
        {
            throw new ArgumentException($"{NoCellState(o)}; c0 must be empty.", nameof(c0));
        }
    }

    private static void CheckDropout(float dropout, Training.SeededRandom? random)
    {
        if (dropout is < 0 or >= 1 || float.IsNaN(dropout))
        {
            throw new ArgumentOutOfRangeException(nameof(dropout), dropout, "dropout must be in [0, 1).");
        }
        if (dropout > 0 && random is null)
        {
            throw new ArgumentNullException(nameof(random), "Dropout needs a seeded random source.");
        }
    }

    /// <summary>
    /// Backpropagation through time. <paramref name="dy"/> is the gradient of the loss with respect to the output
    /// (shape of <see cref="SequenceOutput.Output"/>); <paramref name="dhn"/>, <paramref name="dcn"/> with respect to
    /// hn, cn ([D·L, B, H], or empty for zeros). Accumulates every parameter's gradient into
    /// <paramref name="gradients"/> and returns dX, dh0 and dc0.
    /// </summary>
    public InputGradients Backward(TrainingTrace trace, ReadOnlySpan<float> dy, ReadOnlySpan<float> dhn, ReadOnlySpan<float> dcn, ParameterSet gradients)
    {
        ArgumentNullException.ThrowIfNull(trace);
        RecurrentOptions o = Options;
        int states = o.Directions * o.Layers * trace.Batch; // the forward pass checked that these fit an array
        float[] dx = new float[trace.Steps * trace.Batch * o.InputSize], dh0 = new float[states * o.HiddenStateSize];
        float[] dc0 = o.HasCellState ? new float[states * o.HiddenSize] : [];
        BackwardInto(trace, dy, dhn, dcn, gradients, dx, dh0, dc0); // RecurrentNetwork.Training.cs
        return new InputGradients(dx, dh0, dc0);
    }

    /// <summary>The checks every backward pass makes of its trace, gradients, dy [T, B, D·H'] (or batch-first), dhn [D·L, B, H'] and dcn [D·L, B, H].</summary>
    private void CheckGradientShapes(TrainingTrace trace, ReadOnlySpan<float> dy, ReadOnlySpan<float> dhn, ReadOnlySpan<float> dcn, ParameterSet gradients)
    {
        RecurrentOptions o = Options;
        int steps = trace.Steps, batch = trace.Batch, states = o.Directions * o.Layers;
        if (trace.LayerOutputs.Length != o.Layers || gradients.Infos.Count != parameters.Infos.Count || (trace.Owner is { } owner && owner != this))
        {
            throw new ArgumentException("The trace or the gradients belong to a network of another shape.", nameof(trace));
        }
        ShapeCheck.Exact(dy, nameof(dy), o.BatchFirst ? [batch, steps, o.OutputSize] : [steps, batch, o.OutputSize]);
        ShapeCheck.ExactOrEmpty(dhn, nameof(dhn), states, batch, o.HiddenStateSize);
        ShapeCheck.ExactOrEmpty(dcn, nameof(dcn), states, batch, o.HiddenSize);
        if (!o.HasCellState && !dcn.IsEmpty)
        {
            throw new ArgumentException($"{NoCellState(o)}; dcn must be empty.", nameof(dcn));
        }
    }

    private static string NoCellState(RecurrentOptions o) => o.Cell == CellKind.Gru ? "A GRU has no cell state" : "An RNN has no cell state";
}
