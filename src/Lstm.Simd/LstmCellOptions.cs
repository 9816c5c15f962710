namespace Lstm.Simd;

/// <summary>Which LSTM cell the fused kernels compute.</summary>
/// <param name="ForgetGate">
/// true (the default): c_t = f ⊙ c_{t-1} + i ⊙ g. false: the 1997 original, c_t = c_{t-1} + i ⊙ g (the constant error
/// carousel); the f block of the gates is then ignored and its gradient is 0.
/// </param>
/// <param name="Peepholes">ONNX semantics: i and f see c_{t-1}, o sees c_t, through weights [3H] in order i, f, o.</param>
public readonly record struct LstmCellOptions(bool ForgetGate = true, bool Peepholes = false)
{
    public static LstmCellOptions Default => new(true, false);
}
