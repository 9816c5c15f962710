using System.Runtime.CompilerServices;
using Lstm.Simd.Vectors;

namespace Lstm.Simd.Activations;

/// <summary>
/// tanh on |x| with the sign put back at the end (exact odd symmetry, tanh(±0) = ±0), one exponential and one
/// division for every input, no second branch (rr2-p6-div): with e^(-2|x|) = s·(1 + t·p) from the rr2-p6
/// exponential, tanh|x| = (1 − e)/(1 + e) = (−s·t·p + (1 − s)) / (s·t·p + (1 + s)), each side one FMA. s·t is exact
/// (s is a power of two), and 1 ± s is exact wherever it matters (s ≥ 2^-24), so near 0, where s = 1, the numerator
/// is −t·p = −(e^(-2|x|) − 1) with a single rounding: no cancellation, and no separate polynomial branch.
/// </summary>
internal readonly struct TanhRr2P6Div : IUnaryOperator
{
    /// <summary>Below this |x| the result is x itself (tanh x = x to within x²/3 relative, under half an ulp).</summary>
    public const float IdentityLimit = 0.000244140625f; // 2^-12

    /// <summary>|x| is clamped to this before the exponential: the kernel returns ±1 from 8.491054 on (Activation.TanhSaturatesAt), and e^(-2·9.1) is still normal.</summary>
    public const float SaturationClamp = 9.1f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec Invoke<TVec>(TVec x)
        where TVec : struct, IVec<TVec>
    {
        TVec a = TVec.Abs(x);
        // From max(a, 2^-12), not a: below 2^-12 the result is x itself, and a subnormal must not reach the arithmetic.
        TVec al = TVec.MinKeepNaN(TVec.Create(SaturationClamp), TVec.MaxKeepNaN(TVec.Create(IdentityLimit), a));
        TVec one = TVec.Create(1.0f);
        TVec t = ExpRr2P6.Reduce(al * TVec.Create(-2.0f), out TVec s, out TVec p);
        TVec st = s * t;
        TVec r = TVec.Fma(TVec.Xor(st, TVec.Create(-0.0f)), p, one - s) / TVec.Fma(st, p, one + s);

        r = TVec.Select(TVec.LessThan(a, TVec.Create(IdentityLimit)), a, r);
        return TVec.Or(r, TVec.SignBit(x));
    }
}
