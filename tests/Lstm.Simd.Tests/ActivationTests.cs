using Lstm.Simd;

namespace Lstm.Simd.Tests;

public class ActivationTests
{
    // Bounds against the double-precision oracle, over every 16th float in [-20, 20] (the exhaustive check is
    // `dotnet run -c Release --project perf/Lstm.Benchmarks -- --verify-activations`). Measured on the full range:
    // sigmoid 2.40 ulp, tanh 2.43 ulp (its single-branch rr2-p6-div form, largest near 0.125 where three roundings
    // meet at the top of a binade). Both bounds are issue 12's: ≤ 2.5 ulp over every float in [-20, 20].
    private const double SigmoidMaxUlp = 2.5;
    private const double SigmoidMaxAbs = 1e-7;
    private const double TanhMaxUlp = 2.5;
    private const double TanhMaxAbs = 3.2e-7;

    // The largest drop between neighbouring inputs the issue tolerates: 8 ulp.
    private const double MaxMonotonicityDropUlp = 8;

    public delegate void Kernel(ReadOnlySpan<float> x, Span<float> y, SimdPath? path);

    public static TheoryData<string, SimdPath, int> KernelsPathsSizes()
    {
        var data = new TheoryData<string, SimdPath, int>();
        foreach (string k in new[] { "sigmoid", "tanh" })
        {
            foreach (SimdPath p in SimdPaths.Available)
            {
                foreach (int n in Enumerable.Range(0, 257).Concat([263, 1021, 4099]))
                {
                    data.Add(k, p, n);
                }
            }
        }
        return data;
    }

    private static Kernel Get(string name) => name == "sigmoid" ? Activation.Sigmoid : Activation.Tanh;

    [Theory]
    [MemberData(nameof(KernelsPathsSizes))]
    public void EveryPath_EqualsScalarTwin_BitForBit_AtEveryLength(string kernel, SimdPath path, int n)
    {
        float[] x = TestData.Uniform(n, seed: n, scale: 12f);
        float[] expected = new float[n];
        Get(kernel)(x, expected, SimdPath.Scalar);
        Memory<float> y = TestData.AtEndOfArray(new float[n]);
        Get(kernel)(TestData.AtEndOfArray(x).Span, y.Span, path);
        TestData.AssertBitwiseEqual(expected, y.Span, $"{kernel} on {path}, n = {n}");
    }

    [Theory]
    [MemberData(nameof(TestData.Paths), MemberType = typeof(TestData))]
    public void InPlace_EqualsOutOfPlace(SimdPath path)
    {
        float[] x = TestData.Uniform(333, seed: 5, scale: 8f);
        foreach (Kernel k in new Kernel[] { Activation.Sigmoid, Activation.Tanh })
        {
            float[] expected = new float[x.Length];
            k(x, expected, path);
            float[] inPlace = (float[])x.Clone();
            k(inPlace, inPlace, path);
            TestData.AssertBitwiseEqual(expected, inPlace, $"in place on {path}");
        }
    }

    [Theory]
    [MemberData(nameof(TestData.Paths), MemberType = typeof(TestData))]
    public void EveryAlignment_InPlaceAndNot_EqualsScalarTwin(SimdPath path)
    {
        // The 512-bit loop first aligns its stores to 64 bytes: cover every misalignment of both operands.
        float[] values = TestData.Uniform(200, seed: 17, scale: 9f);
        float[] expectedS = new float[values.Length], expectedT = new float[values.Length];
        Activation.Sigmoid(values, expectedS, SimdPath.Scalar);
        Activation.Tanh(values, expectedT, SimdPath.Scalar);
        for (int offset = 0; offset < 16; offset++)
        {
            float[] src = new float[offset + values.Length], dst = new float[17 + values.Length];
            values.CopyTo(src, offset);
            Span<float> x = src.AsSpan(offset, values.Length);
            Activation.Sigmoid(x, dst.AsSpan(offset + 1, values.Length), path);
            TestData.AssertBitwiseEqual(expectedS, dst.AsSpan(offset + 1, values.Length), $"sigmoid, offset {offset}");
            Activation.Tanh(x, x, path);
            TestData.AssertBitwiseEqual(expectedT, x, $"tanh in place, offset {offset}");
        }
    }

    public static readonly float[] SpecialValues =
    [
        0f, -0f, float.Epsilon, -float.Epsilon, 1e-40f, -1e-40f, 1.1754942e-38f, -1.1754942e-38f, 1.17549435e-38f,
        1e-30f, -1e-30f, 2.4414062e-4f, -2.4414062e-4f, 0.625f, -0.625f, 0.62499994f, 0.17328680f, 0.51986039f, 1f, -1f, 8.66434f, -8.66434f, 8.491054f, -8.491054f, 9.1f,
        17.32868f, 16.635532f, -87.33654f, -87.33655f, -88f, -100f, 100f, 1e30f, -1e30f, float.MaxValue, -float.MaxValue,
        float.PositiveInfinity, float.NegativeInfinity, float.NaN,
    ];

    [Theory]
    [MemberData(nameof(TestData.Paths), MemberType = typeof(TestData))]
    public void SpecialValues_MatchScalarTwin_AndTheDocumentedResults(SimdPath path)
    {
        // Repeated so that each value lands in a vector lane, not only in the scalar tail.
        float[] x = Enumerable.Repeat(SpecialValues, 17).SelectMany(v => v).ToArray();
        float[] s = new float[x.Length], t = new float[x.Length], s0 = new float[x.Length], t0 = new float[x.Length];
        Activation.Sigmoid(x, s, path);
        Activation.Tanh(x, t, path);
        Activation.Sigmoid(x, s0, SimdPath.Scalar);
        Activation.Tanh(x, t0, SimdPath.Scalar);
        TestData.AssertBitwiseEqual(s0, s, "sigmoid");
        TestData.AssertBitwiseEqual(t0, t, "tanh");

        for (int i = 0; i < x.Length; i++)
        {
            float v = x[i];
            if (float.IsNaN(v))
            {
                Assert.True(float.IsNaN(s[i]) && float.IsNaN(t[i]), "NaN in must give NaN out");
                continue;
            }
            Assert.False(float.IsNaN(s[i]) || float.IsNaN(t[i]), $"no NaN for {v:R}");
            Assert.InRange(t[i], -1f, 1f);
            Assert.InRange(s[i], 0f, 1f);
            Assert.Equal(float.IsNegative(v), float.IsNegative(t[i]));
        }
        Assert.Equal(BitConverter.SingleToInt32Bits(-0f), BitConverter.SingleToInt32Bits(Activation.Tanh(-0f)));
        Assert.Equal(BitConverter.SingleToInt32Bits(0f), BitConverter.SingleToInt32Bits(Activation.Tanh(0f)));
        Assert.Equal(1f, Activation.Tanh(float.PositiveInfinity));
        Assert.Equal(-1f, Activation.Tanh(float.NegativeInfinity));
        Assert.Equal(1f, Activation.Sigmoid(float.PositiveInfinity));
        Assert.Equal(0f, Activation.Sigmoid(float.NegativeInfinity));
        Assert.Equal(0.5f, Activation.Sigmoid(-0f));
        Assert.Equal(0.5f, Activation.Sigmoid(float.Epsilon));
        Assert.Equal(1e-40f, Activation.Tanh(1e-40f)); // subnormals pass through tanh unchanged
    }

    [Fact]
    public void Tanh_IsExactlyOne_FromTheDocumentedCutoff_AndBelowOneJustBefore()
    {
        Assert.True(Activation.Tanh(MathF.BitDecrement(Activation.TanhSaturatesAt)) < 1f);
        for (float x = Activation.TanhSaturatesAt; x < 12f; x = MathF.BitIncrement(x))
        {
            Assert.Equal(1f, Activation.Tanh(x));
            Assert.Equal(-1f, Activation.Tanh(-x));
        }
        Assert.Equal(1f, Activation.Tanh(1e30f));
    }

    [Fact]
    public void Sigmoid_IsExactlyOne_FromTheDocumentedCutoff_AndZeroWhereTheTrueValueIsSubnormal()
    {
        Assert.True(Activation.Sigmoid(MathF.BitDecrement(Activation.SigmoidSaturatesAt)) < 1f);
        for (float x = Activation.SigmoidSaturatesAt; x < 24f; x = MathF.BitIncrement(x))
        {
            Assert.Equal(1f, Activation.Sigmoid(x));
        }
        float cut = Activation.SigmoidZeroBelow;
        Assert.True(1 / (1 + Math.Exp(-(double)cut)) >= Math.Pow(2, -126), "the cutoff's true value is normal");
        Assert.True(1 / (1 + Math.Exp(-(double)MathF.BitDecrement(cut))) < Math.Pow(2, -126), "below the cutoff the true value is subnormal");
        Assert.True(float.IsNormal(Activation.Sigmoid(cut)));
        for (float x = MathF.BitDecrement(cut); x > -90f; x = MathF.BitDecrement(x))
        {
            Assert.Equal(0f, Activation.Sigmoid(x));
        }
    }

    [Fact]
    public void Sigmoid_WithinBound_OfDoubleOracle_OnEvery16thFloat() =>
        CheckAgainstOracle(Activation.Sigmoid, x => 1 / (1 + Math.Exp(-x)), SigmoidMaxUlp, SigmoidMaxAbs);

    [Fact]
    public void Tanh_WithinBound_OfDoubleOracle_OnEvery16thFloat() =>
        CheckAgainstOracle(Activation.Tanh, Math.Tanh, TanhMaxUlp, TanhMaxAbs);

    [Fact]
    public void BothAreMonotonic_WithinTolerance_AcrossEveryFloatNearTheirBranchPoints()
    {
        // 2^-12 (tanh's identity limit), where tanh's exponential changes its power of two (|x| = ln2/4, 3·ln2/4),
        // the saturation points, and sigmoid's zero cutoff.
        float[] starts = [0f, 2.4414062e-4f, 0.17328680f, 0.51986039f, 8.491054f, 16.635532f, -87.33654f];
        foreach (float center in starts)
        {
            float[] x = new float[20001];
            x[10000] = center;
            for (int i = 10001; i < x.Length; i++) x[i] = MathF.BitIncrement(x[i - 1]);
            for (int i = 9999; i >= 0; i--) x[i] = MathF.BitDecrement(x[i + 1]);
            CheckMonotonic(x, Activation.Sigmoid, "sigmoid");
            CheckMonotonic(x, Activation.Tanh, "tanh");
        }
    }

    private static void CheckMonotonic(float[] x, Kernel k, string name)
    {
        float[] y = new float[x.Length];
        k(x, y, null);
        for (int i = 1; i < x.Length; i++)
        {
            double drop = y[i - 1] - (double)y[i];
            Assert.True(drop <= MaxMonotonicityDropUlp * TestData.Ulp(y[i - 1]), $"{name} drops {drop:E3} from x = {x[i - 1]:R} to {x[i]:R}");
        }
    }

    private static void CheckAgainstOracle(Kernel kernel, Func<double, double> oracle, double maxUlp, double maxAbs)
    {
        const uint Stride = 16;
        const int Chunk = 1 << 20;
        uint limit = BitConverter.SingleToUInt32Bits(20f);
        float[] x = new float[Chunk], y = new float[Chunk];
        double worstUlp = 0, worstAbs = 0;
        float worstUlpAt = 0, worstAbsAt = 0;
        foreach (float sign in new[] { 1f, -1f })
        {
            float previous = float.NaN;
            for (uint first = 0; first <= limit; first += Chunk * Stride)
            {
                int n = 0;
                for (uint b = first; n < Chunk && b <= limit; b += Stride)
                {
                    x[n++] = sign * BitConverter.UInt32BitsToSingle(b);
                }
                kernel(x.AsSpan(0, n), y.AsSpan(0, n), null); // bitwise equal to the scalar twin on every path (tested above)
                for (int i = 0; i < n; i++)
                {
                    double exact = oracle(x[i]);
                    double err = Math.Abs(y[i] - exact);
                    double ulps = err / TestData.Ulp(exact);
                    if (ulps > worstUlp) { worstUlp = ulps; worstUlpAt = x[i]; }
                    if (err > worstAbs) { worstAbs = err; worstAbsAt = x[i]; }
                    if (float.IsNaN(y[i]))
                    {
                        Assert.Fail($"NaN at {x[i]:R}");
                    }
                    // Samples grow in |x|: the result must not move against the function's direction by more than the tolerance.
                    double drop = float.IsNaN(previous) ? 0 : sign * (previous - (double)y[i]);
                    if (drop > MaxMonotonicityDropUlp * TestData.Ulp(y[i]))
                    {
                        Assert.Fail($"monotonicity broken at {x[i]:R}: {previous:R} then {y[i]:R}");
                    }
                    previous = y[i];
                }
            }
        }
        Assert.True(worstUlp <= maxUlp, $"worst error {worstUlp:F3} ulp at x = {worstUlpAt:R} exceeds {maxUlp}");
        Assert.True(worstAbs <= maxAbs, $"worst absolute error {worstAbs:E3} at x = {worstAbsAt:R} exceeds {maxAbs:E3}");
    }

    [Fact]
    public void MismatchedOrOverlappingSpans_ThrowNamingTheArgument()
    {
        float[] buf = new float[20];
        var e1 = Assert.Throws<ArgumentException>(() => Activation.Tanh(buf.AsSpan(0, 10), buf.AsSpan(10, 9)));
        Assert.Equal("y", e1.ParamName);
        Assert.Contains("9", e1.Message);
        Assert.Contains("10", e1.Message);
        var e2 = Assert.Throws<ArgumentException>(() => Activation.Sigmoid(buf.AsSpan(0, 10), buf.AsSpan(3, 10)));
        Assert.Equal("y", e2.ParamName);
    }
}
