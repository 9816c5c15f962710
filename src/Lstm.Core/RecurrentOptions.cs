namespace Lstm.Core;

/// <summary>Which recurrent cell a network uses.</summary>
public enum CellKind
{
    /// <summary>Long short-term memory: four gates i, f, g, o.</summary>
    Lstm,

    /// <summary>Vanilla (Elman) RNN with tanh: one block.</summary>
    Rnn,
}

/// <summary>The shape of a recurrent network, in PyTorch's terms.</summary>
/// <param name="InputSize">I.</param>
/// <param name="HiddenSize">H.</param>
/// <param name="Layers">L, stacked; layer k &gt; 0 reads the D·H outputs of layer k-1.</param>
/// <param name="Bidirectional">D = 2 when true: a second direction runs backward in time, its outputs concatenated after the first's.</param>
/// <param name="BatchFirst">Inputs and outputs are [B, T, ·] rather than [T, B, ·]; h0, c0, hn and cn stay [D·L, B, H].</param>
/// <param name="Cell">LSTM (default) or Elman RNN.</param>
/// <param name="ForgetGate">LSTM only: false gives the 1997 cell, c_t = c_{t-1} + i⊙g.</param>
/// <param name="Peepholes">LSTM only: peephole weights [3H] per layer and direction (ONNX semantics).</param>
public sealed record RecurrentOptions(
    int InputSize,
    int HiddenSize,
    int Layers = 1,
    bool Bidirectional = false,
    bool BatchFirst = false,
    CellKind Cell = CellKind.Lstm,
    bool ForgetGate = true,
    bool Peepholes = false)
{
    /// <summary>D: 1 or 2.</summary>
    public int Directions => Bidirectional ? 2 : 1;

    /// <summary>4 for LSTM (i, f, g, o), 1 for the RNN.</summary>
    public int Gates => Cell == CellKind.Lstm ? 4 : 1;

    /// <summary>D·H: the width of each output row.</summary>
    public int OutputSize => Directions * HiddenSize;

    /// <summary>The input width of layer <paramref name="layer"/>: I for the first, D·H above.</summary>
    public int LayerInputSize(int layer) => layer == 0 ? InputSize : OutputSize;

    internal Lstm.Simd.LstmCellOptions CellOptions => new(ForgetGate, Peepholes);

    /// <summary>Throws if a size is not positive or an LSTM-only option is set on an RNN.</summary>
    public void Validate()
    {
        if (InputSize <= 0) throw new ArgumentOutOfRangeException(nameof(InputSize), InputSize, "InputSize must be ≥ 1.");
        if (HiddenSize <= 0) throw new ArgumentOutOfRangeException(nameof(HiddenSize), HiddenSize, "HiddenSize must be ≥ 1.");
        if (Layers <= 0) throw new ArgumentOutOfRangeException(nameof(Layers), Layers, "Layers must be ≥ 1.");
        // Every parameter and per-row buffer must fit one array: 4H × max(I, D·H) weights and D·L·H state per row.
        ShapeCheck.Elements(nameof(HiddenSize), "the largest weight matrix", Gates * (long)HiddenSize, Math.Max(InputSize, Directions * (long)HiddenSize));
        ShapeCheck.Elements(nameof(Layers), "the state h0 for one batch row", Directions * (long)Layers, HiddenSize);
        if (Cell == CellKind.Rnn && (Peepholes || !ForgetGate))
        {
            throw new ArgumentException("Peepholes and ForgetGate = false apply to LSTM cells only.", nameof(Cell));
        }
    }
}
