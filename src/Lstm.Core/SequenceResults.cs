using System.Numerics.Tensors;

namespace Lstm.Core;

/// <summary>The outputs of a forward pass: y [T, B, D·H] (or [B, T, D·H] batch-first), hn and cn [D·L, B, H].</summary>
public sealed class SequenceOutput(float[] output, float[] hn, float[] cn)
{
    public float[] Output { get; } = output;

    public float[] Hn { get; } = hn;

    /// <summary>Empty for an RNN.</summary>
    public float[] Cn { get; } = cn;

    /// <summary><see cref="Output"/> as a tensor [T, B, D·H] (or [B, T, D·H] batch-first) over the same array.</summary>
    public Tensor<float> OutputTensor => Tensor.Create(Output, OutputLengths ?? throw Unshaped());

    /// <summary><see cref="Hn"/> as a tensor [D·L, B, H] (H is P with projections) over the same array.</summary>
    public Tensor<float> HnTensor => Tensor.Create(Hn, StateLengths ?? throw Unshaped());

    /// <summary><see cref="Cn"/> as a tensor [D·L, B, H] over the same array; an RNN or a GRU has none.</summary>
    public Tensor<float> CnTensor => Cn.Length == 0 && CellLengths is { } l && l[1] * l[2] != 0
        ? throw new InvalidOperationException("Only an LSTM has a cell state.")
        : Tensor.Create(Cn, CellLengths ?? throw Unshaped());

    internal nint[]? OutputLengths { get; init; }

    internal nint[]? StateLengths { get; init; }

    internal nint[]? CellLengths { get; init; }

    private static InvalidOperationException Unshaped() =>
        new("This output was constructed without a shape; only the outputs a network returns can be viewed as tensors.");
}

/// <summary>
/// A training forward pass: its outputs plus exactly what <see cref="RecurrentNetwork.Backward(TrainingTrace, ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, ParameterSet)"/> needs: each
/// layer's input and output, the gate activations and c_t of every step, and h0, c0. From
/// <see cref="RecurrentNetwork.ForwardTraining(ReadOnlySpan{float}, int, int, ReadOnlySpan{float}, ReadOnlySpan{float}, float, Training.SeededRandom)"/>
/// those buffers come from a shared pool: <see cref="Dispose"/> gives them back once the backward pass is done (an
/// undisposed trace is simply collected), and <see cref="Result"/> stays valid after Dispose. From
/// <see cref="RecurrentNetwork.CreateTrace"/> the trace owns its buffers and every training pass into it reuses them
/// (<see cref="Result"/> is overwritten by each); Dispose ends it.
/// </summary>
public sealed class TrainingTrace : IDisposable
{
    internal TrainingTrace(int steps, int batch, SequenceOutput result, float[][] layerInputs, float[][] layerOutputs, float[][] gates, float[][] cells, float[] h0, float[] c0)
    {
        Steps = steps;
        Batch = batch;
        Result = result;
        LayerInputs = layerInputs;
        LayerOutputs = layerOutputs;
        Gates = gates;
        Cells = cells;
        H0 = h0;
        C0 = c0;
    }

    public int Steps { get; }

    public int Batch { get; }

    /// <summary>y, hn, cn, as from <see cref="RecurrentNetwork.Forward(ReadOnlySpan{float}, int, int, ReadOnlySpan{float}, ReadOnlySpan{float})"/>.</summary>
    public SequenceOutput Result { get; }

    internal float[][] LayerInputs { get; }   // [L][T·B, in], time-major

    internal float[][] LayerOutputs { get; }  // [L][T·B, D·H], time-major

    internal float[][] Gates { get; }         // [L·D][T·B, G·H] activations

    internal float[][] Cells { get; }         // [L·D][T·B, H] (LSTM)

    internal float[] H0 { get; }              // [D·L, B, H]

    internal float[] C0 { get; }              // [D·L, B, H]

    internal float[]?[] DropoutMasks { get; init; } = []; // [L][T·B, D·H] or null per layer

    internal RecurrentNetwork? Owner { get; init; }           // CreateTrace's network: the buffers below are this trace's own

    internal TrainingWorkspace? Workspace { get; init; }      // the backward pass's buffers (CreateTrace)

    internal float[]?[] MaskBuffers { get; init; } = [];      // [L] the dropout masks' own arrays, made at the first pass with dropout (CreateTrace)

    internal float[]?[] MaskedInputs { get; init; } = [];     // [L] layer l's output times its mask: layer l + 1's input (CreateTrace)

    internal BufferSource? Source { get; init; }                // where the buffers above came from (pooled: given back on Dispose)

    /// <summary>The batch's lengths, when the pass had some that differ from T: every buffer above is in its sorted row order.</summary>
    internal RecurrentNetwork.Packing? Packing { get; init; }

    /// <summary>With projections: o ⊙ tanh(c) of every step before W_hr, [L·D][T·B, H] (the input of dW_hr).</summary>
    internal float[][] RawHidden { get; init; } = [];

    internal bool Disposed { get; private set; }

    public void Dispose()
    {
        if (Disposed)
        {
            return;
        }
        Disposed = true;
        Source?.ReturnAll();
    }
}

/// <summary>The input gradients of a backward pass: dX in the layout of x, dh0 and dc0 [D·L, B, H].</summary>
public sealed class InputGradients(float[] dx, float[] dh0, float[] dc0)
{
    public float[] DX { get; } = dx;

    public float[] DH0 { get; } = dh0;

    /// <summary>Empty for an RNN.</summary>
    public float[] DC0 { get; } = dc0;
}
