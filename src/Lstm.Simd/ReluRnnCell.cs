using Lstm.Simd.Activations;
using Lstm.Simd.Vectors;

namespace Lstm.Simd;

/// <summary>
/// The Elman RNN cell with ReLU (PyTorch's <c>nn.RNN(nonlinearity='relu')</c>): h_t = max(0, W_ih·x + b_ih + W_hh·h_{t-1} + b_hh),
/// elementwise after the GEMMs, with PyTorch's NaN and −0 behaviour (<c>relu</c> keeps NaN; relu(−0) = −0).
/// </summary>
public static class ReluRnnCell
{
    /// <summary>h = max(0, pre), NaN kept; <paramref name="pre"/> and <paramref name="h"/> may be the same span.</summary>
    public static void Forward(ReadOnlySpan<float> pre, Span<float> h, SimdPath? path = null)
    {
        Check.SameLength(pre, nameof(pre), h, nameof(h));
        UnaryLoop.Run<ReluKeepNaN>(pre, h, SimdPaths.Resolve(path));
    }

    /// <summary>
    /// dPre = h ≤ 0 ? 0 : dh, given the forward output h: PyTorch's <c>threshold_backward(dh, h, 0)</c>, so a NaN h
    /// passes its gradient on as PyTorch does. <paramref name="dPre"/> may be <paramref name="dh"/> itself.
    /// </summary>
    public static void Backward(ReadOnlySpan<float> h, ReadOnlySpan<float> dh, Span<float> dPre, SimdPath? path = null)
    {
        SimdPath p = SimdPaths.Resolve(path);
        Check.SameLength(h, nameof(h), dh, nameof(dh));
        Check.SameLength(h, nameof(h), dPre, nameof(dPre));
        Check.InPlaceOrDisjoint(dh, nameof(dh), dPre, nameof(dPre));
        Check.Disjoint(h, nameof(h), dPre, nameof(dPre));
        BinaryLoop.Run<ThresholdBackward>(h, dh, dPre, p);
    }

    // PyTorch's threshold_backward(dh, h, 0).
    private readonly struct ThresholdBackward : IBinaryOperator
    {
        public static TVec Invoke<TVec>(TVec h, TVec dh)
            where TVec : struct, IVec<TVec>
        {
            // 0 < h is false for h ≤ 0 (−0 included) and for NaN; PyTorch zeroes only h ≤ 0, so NaN takes the gradient.
            TVec zero = TVec.Create(0f);
            TVec passes = TVec.Or(TVec.LessThan(zero, h), IsNaN(h));
            return TVec.Select(passes, dh, zero);
        }
    }

    // All ones where x is NaN: the one value with neither −∞ < x nor x < +∞ (IVec has no equality compare).
    private static TVec IsNaN<TVec>(TVec x)
        where TVec : struct, IVec<TVec>
    {
        TVec ordered = TVec.Or(TVec.LessThan(TVec.Create(float.NegativeInfinity), x), TVec.LessThan(x, TVec.Create(float.PositiveInfinity)));
        return TVec.Select(ordered, TVec.Create(0f), AllOnes<TVec>());
    }

    private static TVec AllOnes<TVec>()
        where TVec : struct, IVec<TVec> => TVec.LessThan(TVec.Create(0f), TVec.Create(1f));
}
