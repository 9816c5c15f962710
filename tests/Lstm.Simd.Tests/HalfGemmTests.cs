using Lstm.Simd;

namespace Lstm.Simd.Tests;

/// <summary>The 16-bit weight GEMM: widening, FMA chains equal to the float32 GEMM's, accuracy, special values.</summary>
public class HalfGemmTests
{
    public static readonly WeightFormat[] Formats = [WeightFormat.Float16, WeightFormat.BFloat16];

    public static TheoryData<SimdPath, WeightFormat> PathsAndFormats()
    {
        var data = new TheoryData<SimdPath, WeightFormat>();
        foreach (SimdPath p in SimdPaths.Available)
        {
            foreach (WeightFormat f in Formats)
            {
                data.Add(p, f);
            }
        }
        return data;
    }

    private static IEnumerable<ushort> FinitePatterns(WeightFormat format) =>
        Enumerable.Range(0, 65536).Select(i => (ushort)i).Where(b => format == WeightFormat.Float16 ? (b & 0x7C00) != 0x7C00 : (b & 0x7F80) != 0x7F80);

    [Theory]
    [MemberData(nameof(PathsAndFormats))]
    public void EveryFinitePattern_WidensExactly(SimdPath path, WeightFormat format)
    {
        // W is [patterns, 1] and A = [1]: C starts at −0 and gains fma(1, w, −0) = w exactly (−0 stays −0).
        ushort[] bits = FinitePatterns(format).ToArray();
        PackedHalfMatrix w = PackedHalfMatrix.FromBits(bits, bits.Length, 1, format);
        float[] c = Enumerable.Repeat(-0f, bits.Length).ToArray();
        QuantizedGemm.Multiply([1f], 1, 1, w, c, bits.Length, accumulate: true, path);
        for (int i = 0; i < bits.Length; i++)
        {
            float expected = format == WeightFormat.Float16
                ? (float)BitConverter.UInt16BitsToHalf(bits[i])
                : BitConverter.UInt32BitsToSingle((uint)bits[i] << 16);
            Assert.True(BitConverter.SingleToInt32Bits(expected) == BitConverter.SingleToInt32Bits(c[i]), $"0x{bits[i]:X4} widened to {c[i]:R}, expected {expected:R}");
        }
    }

    [Theory]
    [MemberData(nameof(PathsAndFormats))]
    public void Pack_RoundsToNearestEven_AndCopyBitsRoundTrips(SimdPath path, WeightFormat format)
    {
        _ = path;
        float[] w = TestData.Uniform(7 * 33, 3, 100f);
        PackedHalfMatrix packed = PackedHalfMatrix.Pack(w, 7, 33, format);
        ushort[] bits = new ushort[w.Length];
        packed.CopyBits(bits);
        for (int i = 0; i < w.Length; i++)
        {
            ushort expected = format == WeightFormat.Float16
                ? BitConverter.HalfToUInt16Bits((Half)w[i])
                : (ushort)((BitConverter.SingleToUInt32Bits(w[i]) + 0x7FFF + ((BitConverter.SingleToUInt32Bits(w[i]) >> 16) & 1)) >> 16);
            Assert.Equal(expected, bits[i]);
        }
        ushort[] again = new ushort[w.Length];
        PackedHalfMatrix.FromBits(bits, 7, 33, format).CopyBits(again);
        Assert.Equal(bits, again);
        // bf16 ties go to even: 1 + 2^-8 is halfway between 1 and 1 + 2^-7
        if (format == WeightFormat.BFloat16)
        {
            PackedHalfMatrix.Pack([1f + (1f / 256), 1f + (3f / 256)], 1, 2, format).CopyBits(again.AsSpan(0, 2));
            Assert.Equal([(ushort)0x3F80, (ushort)0x3F82], again[..2]);
        }
    }

    public static TheoryData<SimdPath, int, int, int> Shapes()
    {
        var data = new TheoryData<SimdPath, int, int, int>();
        var seen = new HashSet<(SimdPath, int, int, int)>();
        foreach (SimdPath p in SimdPaths.Available)
        {
            foreach (int s in TestData.AwkwardSizes)
            {
                foreach (var (m, n, k) in new[] { (s, 33, 17), (5, s, 17), (5, 33, s), (s, 130, 9) })
                {
                    if (seen.Add((p, m, n, k)))
                    {
                        data.Add(p, m, n, k);
                    }
                }
            }
            data.Add(p, 1, 1024, 256);
            data.Add(p, 131, 260, 70); // more rows than one row chunk
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void AccumulateAndNoBias_EqualFloatGemmOnWidenedWeightsBitwise(SimdPath path, int m, int n, int k)
    {
        int seed = (m * 7919) + (n * 104729) + k;
        float[] w = TestData.Uniform(n * k, seed), a = TestData.Uniform(m * k, seed + 1), c0 = TestData.Uniform(m * n, seed + 2);
        int lda = k + 3, ldc = n + 5; // strided views
        float[] aStrided = new float[(m * lda) + 1];
        for (int i = 0; i < m; i++)
        {
            a.AsSpan(i * k, k).CopyTo(aStrided.AsSpan(i * lda));
        }
        foreach (WeightFormat format in Formats)
        {
            PackedHalfMatrix half = PackedHalfMatrix.Pack(w, n, k, format, TestData.Uniform(n, seed + 3));
            float[] widened = new float[n * k];
            half.CopyWeightsTo(widened);
            PackedMatrix f32 = PackedMatrix.Pack(widened, n, k);
            foreach (bool accumulate in new[] { false, true })
            {
                float[] expected = new float[m * ldc];
                float[] actual = new float[m * ldc];
                for (int i = 0; i < m; i++)
                {
                    c0.AsSpan(i * n, n).CopyTo(expected.AsSpan(i * ldc));
                    c0.AsSpan(i * n, n).CopyTo(actual.AsSpan(i * ldc));
                }
                if (accumulate)
                {
                    Gemm.MultiplyAdd(aStrided, m, lda, f32, expected, ldc, SimdPath.Scalar);
                    QuantizedGemm.Multiply(aStrided, m, lda, half, actual, ldc, accumulate: true, path);
                }
                else
                {
                    // no bias: pack without one
                    PackedHalfMatrix noBias = PackedHalfMatrix.Pack(w, n, k, format);
                    Gemm.Multiply(aStrided, m, lda, f32, expected, ldc, SimdPath.Scalar);
                    QuantizedGemm.Multiply(aStrided, m, lda, noBias, actual, ldc, accumulate: false, path);
                }
                TestData.AssertBitwiseEqual(expected, actual, $"{format} accumulate={accumulate} on {path} (gaps between rows untouched too)");
            }
        }
    }

    // Against the dequantized weights in double: the only error left is float32 accumulation, one rounding per FMA,
    // so |c − exact| ≤ (K + 1)·2^-24·(|bias| + Σ|a·w|) (the bound of GemmTests, recursive summation with u = 2^-24).
    [Theory]
    [MemberData(nameof(PathsAndFormats))]
    public void Multiply_WithinFloatRoundingOfDoubleOracle_AndFormatErrorOfFloatWeights(SimdPath path, WeightFormat format)
    {
        const int m = 3, n = 70, k = 129;
        float[] w = TestData.Uniform(n * k, 11, 0.0625f), a = TestData.Uniform(m * k, 12), bias = TestData.Uniform(n, 13);
        PackedHalfMatrix half = PackedHalfMatrix.Pack(w, n, k, format, bias);
        float[] widened = new float[n * k];
        half.CopyWeightsTo(widened);
        float[] c = new float[m * n];
        QuantizedGemm.Multiply(a, m, k, half, c, n, accumulate: false, path);
        // The format's own rounding: |w − widen(w)| ≤ 2^-11·|w| (fp16, normal range) or 2^-8·|w| (bf16).
        double unit = format == WeightFormat.Float16 ? Math.Pow(2, -11) : Math.Pow(2, -8);
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double exact = bias[j], abs = Math.Abs(bias[j]), fromFloat = bias[j], formatBound = 0;
                for (int kk = 0; kk < k; kk++)
                {
                    double av = a[(i * k) + kk];
                    exact += av * widened[(j * k) + kk];
                    abs += Math.Abs(av * widened[(j * k) + kk]);
                    fromFloat += av * w[(j * k) + kk];
                    formatBound += Math.Abs(av * w[(j * k) + kk]) * unit;
                }
                double got = c[(i * n) + j];
                Assert.True(Math.Abs(got - exact) <= (k + 1) * Math.Pow(2, -24) * abs, $"C[{i},{j}] = {got} vs {exact}");
                Assert.True(Math.Abs(got - fromFloat) <= formatBound + ((k + 1) * Math.Pow(2, -24) * abs), $"C[{i},{j}] = {got} vs float weights {fromFloat}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(PathsAndFormats))]
    public void SpecialActivations_BehaveAsTheFloatGemm(SimdPath path, WeightFormat format)
    {
        // ±0, subnormals, huge values, a zero row, NaN and ±inf: with 16-bit weights the arithmetic is the float32
        // GEMM's on the widened weights, so a NaN or infinity in a row gives what float FMAs give (NaN or ±inf in
        // that row's outputs) and the other rows are untouched.
        const int n = 67, k = 19;
        float[] specials = [0f, -0f, float.Epsilon, -1e-40f, 1e-38f, 1e37f, -1e37f, 1e30f];
        float[][] rows =
        [
            Enumerable.Range(0, k).Select(i => specials[i % specials.Length]).ToArray(),
            new float[k],
            Enumerable.Range(0, k).Select(i => i == 5 ? float.NaN : 0.5f).ToArray(),
            Enumerable.Range(0, k).Select(i => i == 3 ? float.PositiveInfinity : -0.25f).ToArray(),
            Enumerable.Range(0, k).Select(i => i % 2 == 0 ? float.Epsilon * i : -0f).ToArray(),
        ];
        float[] a = rows.SelectMany(r => r).ToArray();
        int m = rows.Length;
        float[] w = TestData.Uniform(n * k, 21);
        w[0] = 0f; // a zero weight times infinity: NaN in that output
        PackedHalfMatrix half = PackedHalfMatrix.Pack(w, n, k, format, TestData.Uniform(n, 22));
        float[] widened = new float[n * k];
        half.CopyWeightsTo(widened);
        float[] expected = new float[m * n], actual = new float[m * n];
        Gemm.Multiply(a, m, k, PackedMatrix.Pack(widened, n, k, TestData.Uniform(n, 22)), expected, n, SimdPath.Scalar);
        QuantizedGemm.Multiply(a, m, k, half, actual, n, accumulate: false, path);
        TestData.AssertBitwiseEqual(expected, actual, $"{format} specials on {path}");
        Assert.All(actual.AsSpan(2 * n, n).ToArray(), v => Assert.True(float.IsNaN(v)));
        Assert.True(actual.AsSpan(3 * n, n).ToArray().All(v => float.IsNaN(v) || float.IsInfinity(v)));
        Assert.True(actual.AsSpan(0, 2 * n).ToArray().All(float.IsFinite));
    }

    [Fact]
    public void Multiply_SteadyState_AllocatesNothing()
    {
        const int n = 130, k = 70;
        PackedHalfMatrix w = PackedHalfMatrix.Pack(TestData.Uniform(n * k, 1), n, k, WeightFormat.BFloat16);
        foreach (int m in new[] { 1, 20 }) // registers only; then the per-thread widened buffer
        {
            float[] a = TestData.Uniform(m * k, 2), c = new float[m * n];
            // Past tiered compilation first (as Lstm.Core.Tests' Helpers.WarmUp).
            for (int round = 0; round < 3; round++)
            {
                for (int i = 0; i < 100; i++)
                {
                    QuantizedGemm.Multiply(a, m, k, w, c, n, accumulate: false);
                }
                Thread.Sleep(150);
            }
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 20; i++)
            {
                QuantizedGemm.Multiply(a, m, k, w, c, n, accumulate: false);
            }
            Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        }
    }
}
