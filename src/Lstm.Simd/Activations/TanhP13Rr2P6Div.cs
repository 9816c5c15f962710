using System.Runtime.CompilerServices;
using Lstm.Simd.Vectors;

namespace Lstm.Simd.Activations;

/// <summary>
/// tanh on |x| with the sign put back at the end (exact odd symmetry, tanh(±0) = ±0):
/// below <see cref="PolynomialLimit"/> an odd degree-13 polynomial (p13), above it (1 - e)/(1 + e) with
/// e = e^(-2|x|) from the rr2-p6 exponential and one division.
/// </summary>
internal readonly struct TanhP13Rr2P6Div : IUnaryOperator
{
    /// <summary>Below this |x| the result is x itself (tanh x = x to within x²/3 relative, under half an ulp).</summary>
    public const float IdentityLimit = 0.000244140625f; // 2^-12

    /// <summary>Below this |x| the polynomial is used; above, the exponential form, whose cancellation 1 - e is mild here.</summary>
    public const float PolynomialLimit = 0.625f;

    /// <summary>|x| is clamped to this before the exponential: the kernel returns ±1 from 8.66434 on, and e^(-2·9.1) is still normal.</summary>
    public const float SaturationClamp = 9.1f;

    // Chebyshev fit of (tanh a - a)/a³ as a polynomial in a² on [0, 0.625²]; relative fit error ≈ 6e-10.
    private const float Q5 = 0.002292744815349579f;
    private const float Q4 = -0.008343945257365704f;
    private const float Q3 = 0.02176891826093197f;
    private const float Q2 = -0.053959257900714874f;
    private const float Q1 = 0.13333304226398468f;
    private const float Q0 = -0.3333333432674408f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec Invoke<TVec>(TVec x)
        where TVec : struct, IVec<TVec>
    {
        TVec a = TVec.Abs(x);

        TVec ap = TVec.MaxKeepNaN(TVec.Create(IdentityLimit), a);
        TVec u = ap * ap;
        TVec q = TVec.Fma(TVec.Create(Q5), u, TVec.Create(Q4));
        q = TVec.Fma(q, u, TVec.Create(Q3));
        q = TVec.Fma(q, u, TVec.Create(Q2));
        q = TVec.Fma(q, u, TVec.Create(Q1));
        q = TVec.Fma(q, u, TVec.Create(Q0));
        TVec small = TVec.Fma(ap * u, q, ap);

        // From ap, not a: below 2^-12 the result is x itself, and a subnormal must not reach the multiplications.
        TVec al = TVec.MinKeepNaN(TVec.Create(SaturationClamp), ap);
        TVec e = ExpRr2P6.Invoke(al * TVec.Create(-2.0f));
        TVec one = TVec.Create(1.0f);
        TVec large = (one - e) / (one + e);

        TVec r = TVec.Select(TVec.LessThan(a, TVec.Create(PolynomialLimit)), small, large);
        r = TVec.Select(TVec.LessThan(a, TVec.Create(IdentityLimit)), a, r);
        return TVec.Or(r, TVec.SignBit(x));
    }
}
