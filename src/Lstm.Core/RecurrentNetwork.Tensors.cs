using System.Numerics.Tensors;

namespace Lstm.Core;

/// <summary>
/// Overloads that take System.Numerics.Tensors spans: the shape comes from the tensor's lengths (checked, with errors
/// naming the dimension), the values are the same as from the span overloads, bit for bit.
/// </summary>
public sealed partial class RecurrentNetwork
{
    /// <summary>
    /// <see cref="Forward(ReadOnlySpan{float}, int, int, ReadOnlySpan{float}, ReadOnlySpan{float})"/> on tensors:
    /// <paramref name="x"/> [T, B, I] (or [B, T, I] batch-first), <paramref name="h0"/> and <paramref name="c0"/>
    /// [D·L, B, H] (h0 [D·L, B, P] with projections) or omitted for zeros. <see cref="SequenceOutput.OutputTensor"/> and its siblings give the results as tensors.
    /// </summary>
    public SequenceOutput Forward(in ReadOnlyTensorSpan<float> x, in ReadOnlyTensorSpan<float> h0 = default, in ReadOnlyTensorSpan<float> c0 = default)
    {
        (int steps, int batch) = SequenceShape(x, nameof(x), Options.InputSize, "input size");
        return Forward(TensorArguments.RowMajor(x), steps, batch, States(h0, nameof(h0), batch, Options.HiddenStateSize), States(c0, nameof(c0), batch, Options.HiddenSize));
    }

    /// <summary><see cref="ForwardTraining(ReadOnlySpan{float}, int, int, ReadOnlySpan{float}, ReadOnlySpan{float}, float, Training.SeededRandom)"/> on tensors, shaped as for <see cref="Forward(in ReadOnlyTensorSpan{float}, in ReadOnlyTensorSpan{float}, in ReadOnlyTensorSpan{float})"/>.</summary>
    public TrainingTrace ForwardTraining(in ReadOnlyTensorSpan<float> x, in ReadOnlyTensorSpan<float> h0 = default, in ReadOnlyTensorSpan<float> c0 = default)
    {
        (int steps, int batch) = SequenceShape(x, nameof(x), Options.InputSize, "input size");
        return ForwardTraining(TensorArguments.RowMajor(x), steps, batch, States(h0, nameof(h0), batch, Options.HiddenStateSize), States(c0, nameof(c0), batch, Options.HiddenSize));
    }

    /// <summary>
    /// <see cref="Backward(TrainingTrace, ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, ParameterSet)"/> on tensors: <paramref name="dy"/> shaped as the output ([T, B, D·H] or batch-first),
    /// <paramref name="dhn"/> and <paramref name="dcn"/> [D·L, B, H] or omitted for zeros.
    /// </summary>
    public InputGradients Backward(TrainingTrace trace, ParameterSet gradients, in ReadOnlyTensorSpan<float> dy,
        in ReadOnlyTensorSpan<float> dhn = default, in ReadOnlyTensorSpan<float> dcn = default)
    {
        ArgumentNullException.ThrowIfNull(trace);
        (int steps, int batch) = SequenceShape(dy, nameof(dy), Options.OutputSize, "directions × hidden size");
        TensorArguments.Dimension(nameof(dy), Options.BatchFirst ? 1 : 0, "steps", steps, trace.Steps, dy.Lengths);
        TensorArguments.Dimension(nameof(dy), Options.BatchFirst ? 0 : 1, "batch", batch, trace.Batch, dy.Lengths);
        return Backward(trace, TensorArguments.RowMajor(dy), States(dhn, nameof(dhn), batch, Options.HiddenStateSize), States(dcn, nameof(dcn), batch, Options.HiddenSize), gradients);
    }

    /// <summary>
    /// <see cref="Step(StreamState, ReadOnlySpan{float}, Span{float})"/> on tensors: <paramref name="x"/> [B, I] and
    /// <paramref name="y"/> [B, H] ([B, P] with projections), both row-major (a dense tensor is used in place, so this allocates nothing either).
    /// </summary>
    public void Step(StreamState state, in ReadOnlyTensorSpan<float> x, in TensorSpan<float> y)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (x.Rank != 2)
        {
            throw new ArgumentException($"x must have 2 dimensions [B, I]; it has {x.Rank}: {TensorArguments.Shape(x.Lengths)}.", nameof(x));
        }
        TensorArguments.Dimension(nameof(x), 0, "batch", x.Lengths[0], state.Batch, x.Lengths);
        TensorArguments.Dimension(nameof(x), 1, "input size", x.Lengths[1], Options.InputSize, x.Lengths);
        if (y.Rank != 2)
        {
            throw new ArgumentException($"y must have 2 dimensions [B, H] ([B, P] with projections); it has {y.Rank}: {TensorArguments.Shape(y.Lengths)}.", nameof(y));
        }
        TensorArguments.Dimension(nameof(y), 0, "batch", y.Lengths[0], state.Batch, y.Lengths);
        TensorArguments.Dimension(nameof(y), 1, Options.ProjectionSize > 0 ? "projection size" : "hidden size", y.Lengths[1], Options.HiddenStateSize, y.Lengths);
        Step(state, TensorArguments.RowMajor(x), TensorArguments.RowMajor(y, nameof(y)));
    }

    // (T, B) of a [T, B, width] tensor, or of [B, T, width] when batch-first.
    private (int Steps, int Batch) SequenceShape(in ReadOnlyTensorSpan<float> t, string name, int width, string meaning)
    {
        string layout = Options.BatchFirst ? "[B, T, ·] (batch-first)" : "[T, B, ·]";
        int[] l = TensorArguments.Lengths(t, name, 3, layout);
        TensorArguments.Dimension(name, 2, meaning, l[2], width, t.Lengths);
        return Options.BatchFirst ? (l[1], l[0]) : (l[0], l[1]);
    }

    // A [D·L, B, width] state (h: P wide with projections, c: H), or empty when the caller gave none.
    private ReadOnlySpan<float> States(in ReadOnlyTensorSpan<float> t, string name, int batch, int width)
    {
        if (!TensorArguments.IsGiven(t))
        {
            return default;
        }
        int[] l = TensorArguments.Lengths(t, name, 3, "[D·L, B, H]");
        TensorArguments.Dimension(name, 0, "directions × layers", l[0], Options.Directions * Options.Layers, t.Lengths);
        TensorArguments.Dimension(name, 1, "batch", l[1], batch, t.Lengths);
        TensorArguments.Dimension(name, 2, width == Options.HiddenSize ? "hidden size" : "projection size", l[2], width, t.Lengths);
        return TensorArguments.RowMajor(t);
    }
}
