using Lstm.Simd.Activations;

namespace Lstm.Simd;

/// <summary>
/// Sigmoid and tanh over spans. The input and the destination may be the same span (in place) but must not
/// otherwise overlap. Every path gives bitwise the same result; see the README for the measured error bounds.
/// </summary>
public static class Activation
{
    /// <summary>Below this input σ(x) would be subnormal; the result is 0 there.</summary>
    public const float SigmoidZeroBelow = SigmoidRr2P6Div.SubnormalCutoff;

    /// <summary>x at and above which σ(x) is exactly 1: where the true value rounds to 1 (1/(1 + e^-x) for positive x).</summary>
    public const float SigmoidSaturatesAt = 16.635532f;

    /// <summary>|x| at and above which tanh returns exactly ±1 (the first float where the kernel rounds to 1; at most 1.5 ulp above the true value there).</summary>
    public const float TanhSaturatesAt = 8.491054f;

    /// <summary>y = 1 / (1 + e^-x), algorithm rr2-p6-div.</summary>
    public static void Sigmoid(ReadOnlySpan<float> x, Span<float> y, SimdPath? path = null) =>
        UnaryLoop.Run<SigmoidRr2P6Div>(x, y, SimdPaths.Resolve(path));

    /// <summary>y = tanh(x), algorithm rr2-p6-div: (1 − e)/(1 + e) with e = e^(-2|x|), each side one FMA from the exponential's parts (no cancellation near 0).</summary>
    public static void Tanh(ReadOnlySpan<float> x, Span<float> y, SimdPath? path = null) =>
        UnaryLoop.Run<TanhRr2P6Div>(x, y, SimdPaths.Resolve(path));

    /// <summary>σ(x) for one value, by the same algorithm as the span kernels.</summary>
    public static float Sigmoid(float x) => SigmoidRr2P6Div.Invoke(new Vectors.VScalar(x)).Value;

    /// <summary>tanh(x) for one value, by the same algorithm as the span kernels.</summary>
    public static float Tanh(float x) => TanhRr2P6Div.Invoke(new Vectors.VScalar(x)).Value;
}
