namespace Lstm.Core;

/// <summary>Which recurrent cell a network uses.</summary>
public enum CellKind
{
    /// <summary>Long short-term memory: four gates i, f, g, o.</summary>
    Lstm,

    /// <summary>Vanilla (Elman) RNN: one block, tanh or ReLU (<see cref="RecurrentOptions.Nonlinearity"/>).</summary>
    Rnn,

    /// <summary>Gated recurrent unit: three gates r, z, n in PyTorch's order.</summary>
    Gru,
}

/// <summary>The activation of an Elman RNN (<c>nn.RNN(nonlinearity=...)</c>).</summary>
public enum RnnNonlinearity
{
    /// <summary>h = tanh(W_ih x + b_ih + W_hh h' + b_hh), PyTorch's default.</summary>
    Tanh,

    /// <summary>h = max(0, W_ih x + b_ih + W_hh h' + b_hh).</summary>
    Relu,
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
/// <param name="Nonlinearity">RNN only: tanh (default) or ReLU.</param>
/// <param name="Bias">False: no bias tensors (PyTorch's <c>bias=False</c>).</param>
/// <param name="ProjectionSize">LSTM only: P &gt; 0 projects h to P units by <c>weight_hr_l{k}</c> [P, H] (PyTorch's <c>proj_size</c>); 0 for none.</param>
/// <param name="LinearBeforeReset">GRU only: true (PyTorch, ONNX's linear_before_reset = 1) applies r after the recurrent matmul, r ⊙ (W_hn h + b_hn); false (ONNX's default 0) applies it before, W_hn (r ⊙ h) + b_hn.</param>
public sealed record RecurrentOptions(
    int InputSize,
    int HiddenSize,
    int Layers = 1,
    bool Bidirectional = false,
    bool BatchFirst = false,
    CellKind Cell = CellKind.Lstm,
    bool ForgetGate = true,
    bool Peepholes = false,
    RnnNonlinearity Nonlinearity = RnnNonlinearity.Tanh,
    bool Bias = true,
    int ProjectionSize = 0,
    bool LinearBeforeReset = true)
{
    /// <summary>D: 1 or 2.</summary>
    public int Directions => Bidirectional ? 2 : 1;

    /// <summary>4 for LSTM (i, f, g, o), 3 for GRU (r, z, n), 1 for the RNN.</summary>
    public int Gates => Cell switch { CellKind.Lstm => 4, CellKind.Gru => 3, _ => 1 };

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
        if (Cell != CellKind.Lstm && (Peepholes || !ForgetGate))
        {
            throw new ArgumentException("Peepholes and ForgetGate = false apply to LSTM cells only.", nameof(Cell));
        }
        if (!LinearBeforeReset && Cell != CellKind.Gru)
        {
            throw new ArgumentException("LinearBeforeReset = false applies to GRU cells only.", nameof(LinearBeforeReset));
        }
        ThrowIfNotYetSupported();
    }

    /// <summary>An LSTM keeps a cell state c beside h (c0, cn); the RNN and the GRU have h only.</summary>
    internal bool HasCellState => Cell == CellKind.Lstm;

    // The options issue 14 adds, refused until each lands, so that no network silently runs without them.
    private void ThrowIfNotYetSupported()
    {
        if (Nonlinearity != RnnNonlinearity.Tanh) throw new NotSupportedException($"Nonlinearity {Nonlinearity} is not supported yet.");
        if (!Bias) throw new NotSupportedException("Bias = false is not supported yet.");
        if (ProjectionSize != 0) throw new NotSupportedException("ProjectionSize is not supported yet.");
    }
}
