using System.Runtime.CompilerServices;
using Lstm.Simd.Vectors;

namespace Lstm.Simd.Activations;

/// <summary>
/// σ(x) = 1 / (1 + e^-x) as f = e^z / (1 + e^z) with z = -|x| (no cancellation, full relative accuracy for
/// negative x), and 1 - f for positive x. rr2-p6 exponential, one division.
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

        TVec e = ExpRr2P6.Invoke(zc);
        TVec f = e / (e + TVec.Create(1.0f));
        f = TVec.Select(TVec.LessThan(z, TVec.Create(SubnormalCutoff)), TVec.Create(0.0f), f);
        return TVec.Select(TVec.LessThan(TVec.Create(0.0f), x), TVec.Create(1.0f) - f, f);
    }
}
