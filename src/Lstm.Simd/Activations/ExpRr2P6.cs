using System.Runtime.CompilerServices;
using Lstm.Simd.Vectors;

namespace Lstm.Simd.Activations;

/// <summary>
/// e^z for z in [<see cref="SigmoidRr2P6Div.SubnormalCutoff"/>, 0]: range reduction z = n·ln2 + t with ln2 in two
/// parts (rr2), |t| ≤ ln2/2, then a degree-6 polynomial for e^t (p6), scaled by 2^n built from the exponent bits.
/// Inside that range every intermediate is a normal float: the scale multiplies last, after the polynomial, so
/// nothing subnormal reaches the arithmetic even at the bottom of the range.
/// </summary>
internal static class ExpRr2P6
{
    // 1.5·2^23 + 127: adding it rounds z·log2(e) to an integer n and leaves n + 127 in the low mantissa bits.
    private const float MagicBias = 12583039f;
    private const float Log2E = 1.44269502162933349609375f;
    private const float MinusLn2Hi = -0.693147182464599609375f;
    private const float MinusLn2Lo = 1.9046542121259336e-09f;

    // Chebyshev fit of (e^t - 1)/t on [-ln2/2, ln2/2]; the fit error (≈ 2e-9) is far below float rounding.
    private const float C6 = 0.0013933641603216529f;
    private const float C5 = 0.008369148708879948f;
    private const float C4 = 0.04166646674275398f;
    private const float C3 = 0.16666504740715027f;
    private const float C2 = 0.5f;
    private const float C1 = 1.0f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec Invoke<TVec>(TVec z)
        where TVec : struct, IVec<TVec>
    {
        TVec t = Reduce(z, out TVec scale, out TVec p);

        // e^z = (1 + t·p) · 2^n: one rounding in the FMA; multiplying by a power of two is exact for normal results.
        return TVec.Fma(t, p, TVec.Create(1f)) * scale;
    }

    /// <summary>
    /// The parts of e^z = <paramref name="scale"/>·(1 + t·<paramref name="p"/>), with scale = 2^n and p ≈ (e^t − 1)/t; returns t.
    /// Callers that need e^z − 1 without cancellation (tanh near 0) combine the parts themselves.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec Reduce<TVec>(TVec z, out TVec scale, out TVec p)
        where TVec : struct, IVec<TVec>
    {
        TVec magic = TVec.Create(MagicBias);
        TVec n = TVec.Fma(z, TVec.Create(Log2E), magic);
        scale = TVec.ShiftBitsLeft23(n);
        n -= magic;
        TVec t = TVec.Fma(n, TVec.Create(MinusLn2Hi), z);
        t = TVec.Fma(n, TVec.Create(MinusLn2Lo), t);

        p = TVec.Fma(TVec.Create(C6), t, TVec.Create(C5));
        p = TVec.Fma(p, t, TVec.Create(C4));
        p = TVec.Fma(p, t, TVec.Create(C3));
        p = TVec.Fma(p, t, TVec.Create(C2));
        p = TVec.Fma(p, t, TVec.Create(C1));
        return t;
    }
}
