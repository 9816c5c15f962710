using System.Runtime.CompilerServices;
using Lstm.Simd.Vectors;

namespace Lstm.Simd.Activations;

/// <summary>
/// σ(x) = 1 / (1 + e^-x) with e = e^z, z = -|x|: e/(1 + e) for negative x (no cancellation, full relative
/// accuracy) and 1/(1 + e) for positive x, the numerator chosen per lane before one division. rr2-p6 exponential.
/// </summary>
internal readonly struct SigmoidRr2P6Div : IUnaryOperator
{
    /// <summary>The smallest float ≥ ln(2^-126): below it σ(x) would be subnormal and the kernel returns 0.</summary>
    public const float SubnormalCutoff = -87.33654022216797f;

    /// <summary>|x| below this is treated as this (σ rounds to 0.5 there anyway), so no subnormal reaches the arithmetic.</summary>
    public const float TinyCutoff = 9.094947e-13f; // 2^-40

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec Invoke<TVec>(TVec x)
        where TVec : struct, IVec<TVec>
    {
        TVec z = TVec.Xor(TVec.Abs(x), TVec.Create(-0.0f)); // -|x|
        TVec zc = TVec.MaxKeepNaN(TVec.Create(SubnormalCutoff), z);
        zc = TVec.MinKeepNaN(TVec.Create(-TinyCutoff), zc);

        // e^z, or 0 where σ(-|x|) would be subnormal (then σ is 0 for negative x and 1 for positive x).
        TVec e = TVec.Select(TVec.LessThan(z, TVec.Create(SubnormalCutoff)), TVec.Create(0.0f), ExpRr2P6.Invoke(zc));
        // One division for both signs: σ(x) = e/(1 + e) for x ≤ 0 and 1/(1 + e) for x > 0 (no 1 − f cancellation).
        TVec one = TVec.Create(1.0f);
        return TVec.Select(TVec.LessThan(TVec.Create(0.0f), x), one, e) / (e + one);
    }
}
