using Lstm.Simd.Activations;
using Lstm.Simd.Vectors;

namespace Lstm.Simd;

/// <summary>The vanilla (Elman) RNN cell: h_t = tanh(W_ih·x + b_ih + W_hh·h_{t-1} + b_hh), elementwise after the GEMMs.</summary>
public static class RnnCell
{
    /// <summary>h = tanh(pre); <paramref name="pre"/> and <paramref name="h"/> may be the same span.</summary>
    public static void Forward(ReadOnlySpan<float> pre, Span<float> h, SimdPath? path = null) =>
        UnaryLoop.Run<TanhRr2P6Div>(pre, h, SimdPaths.Resolve(path));

    /// <summary>dPre = dh ⊙ (1 - h²), given the forward output h. <paramref name="dPre"/> may be <paramref name="dh"/> itself.</summary>
    public static void Backward(ReadOnlySpan<float> h, ReadOnlySpan<float> dh, Span<float> dPre, SimdPath? path = null)
    {
        SimdPath p = SimdPaths.Resolve(path);
        Check.SameLength(h, nameof(h), dh, nameof(dh));
        Check.SameLength(h, nameof(h), dPre, nameof(dPre));
        Check.InPlaceOrDisjoint(dh, nameof(dh), dPre, nameof(dPre));
        Check.Disjoint(h, nameof(h), dPre, nameof(dPre));
        BinaryLoop.Run<TanhBackward>(h, dh, dPre, p);
    }

    // dh ⊙ (1 - h²): tanh's derivative from its output.
    private readonly struct TanhBackward : IBinaryOperator
    {
        public static TVec Invoke<TVec>(TVec h, TVec dh)
            where TVec : struct, IVec<TVec> => dh * (TVec.Create(1f) - (h * h));
    }
}
