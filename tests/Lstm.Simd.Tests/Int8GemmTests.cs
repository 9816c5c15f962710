using Lstm.Simd;
using Lstm.Simd.QuantizedKernels;

namespace Lstm.Simd.Tests;

/// <summary>int8 weights: quantization error, special activations on every integer tile, accuracy against float32.</summary>
public class Int8GemmTests
{
    public static TheoryData<string> Kernels()
    {
        var data = new TheoryData<string>();
        foreach (Int8Kernel kernel in Int8Kernels.Available)
        {
            data.Add(kernel.ToString());
        }
        return data;
    }

    [Fact]
    public void Kernels_IncludeTheVnniTileWhereTheCpuHasIt()
    {
        Assert.Contains(Int8Kernel.Scalar, Int8Kernels.Available);
        Assert.Equal(Int8Kernel.Scalar, Int8Kernels.For(SimdPath.Scalar));
        if (System.Runtime.Intrinsics.X86.AvxVnni.IsSupported && SimdPaths.IsSupported(SimdPath.Avx2))
        {
            Assert.Contains(Int8Kernel.Vnni256, Int8Kernels.Available);
            Assert.Equal(Int8Kernel.Vnni256, Int8Kernels.For(SimdPaths.Default));
        }
    }

    // q = round(w / s) with the quotient in double, whose rounding can move a value within 2^-46 of a tie to the other
    // neighbour: hence the 2^-40 slack on the exact bound |w − q·s| ≤ s/2.
    [Theory]
    [InlineData(1, 1)]
    [InlineData(7, 33)]
    [InlineData(64, 129)]
    public void Quantize_ErrorAtMostHalfAStep_AndRoundTrips(int rows, int cols)
    {
        float[] w = TestData.Uniform(rows * cols, rows + cols, 3f);
        if (rows > 1)
        {
            w.AsSpan(cols, cols).Clear(); // a zero row
            w[0] = 1e-42f; // a subnormal weight
        }
        PackedInt8Matrix packed = PackedInt8Matrix.Quantize(w, rows, cols);
        var q = new sbyte[rows * cols];
        var scales = new float[rows];
        packed.CopyQuantized(q, scales);
        for (int r = 0; r < rows; r++)
        {
            float maxAbs = w.AsSpan(r * cols, cols).ToArray().Max(Math.Abs);
            Assert.Equal(maxAbs / 127f, scales[r]);
            for (int c = 0; c < cols; c++)
            {
                int i = (r * cols) + c;
                Assert.InRange(q[i], (sbyte)-127, (sbyte)127);
                Assert.True(Math.Abs(w[i] - (q[i] * (double)scales[r])) <= scales[r] * (0.5 + Math.Pow(2, -40)), $"w[{r},{c}] = {w[i]}, q = {q[i]}, scale {scales[r]}");
            }
            if (maxAbs > 0)
            {
                Assert.Equal(127, q.AsSpan(r * cols, cols).ToArray().Max(v => Math.Abs((int)v)));
            }
        }
        var q2 = new sbyte[rows * cols];
        var scales2 = new float[rows];
        PackedInt8Matrix.FromQuantized(q, scales, rows, cols).CopyQuantized(q2, scales2);
        Assert.Equal(q, q2);
        Assert.Equal(scales, scales2);
    }

    [Fact]
    public void Quantize_NonFiniteWeight_Throws()
    {
        var e = Assert.Throws<ArgumentException>(() => PackedInt8Matrix.Quantize([1f, float.NaN], 1, 2));
        Assert.Equal("weights", e.ParamName);
        Assert.Contains("weights[0, 1]", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Kernels))]
    public void SpecialActivations_MatchOracle_NonFiniteRowsGiveNaN(string kernelName)
    {
        // ±0, subnormals (alone in a row: the scale underflows; mixed: they quantize to 0), huge values, a zero row;
        // a NaN or ±infinity anywhere in a row makes all of that row's outputs NaN and leaves the other rows alone.
        Int8Kernel kernel = Enum.Parse<Int8Kernel>(kernelName);
        const int n = 70, k = 37;
        float[][] rows =
        [
            Enumerable.Range(0, k).Select(i => new[] { 0f, -0f, float.Epsilon, -1e-40f, 1e-38f, 3e38f, -3e38f, 1e30f }[i % 8]).ToArray(),
            new float[k],
            Enumerable.Range(0, k).Select(i => i % 2 == 0 ? float.Epsilon * i : -0f).ToArray(),
            Enumerable.Range(0, k).Select(i => i == 5 ? float.NaN : 0.5f).ToArray(),
            Enumerable.Range(0, k).Select(i => i == 36 ? float.PositiveInfinity : -0.25f).ToArray(),
            Enumerable.Range(0, k).Select(i => i == 0 ? float.NegativeInfinity : 1f).ToArray(),
            Enumerable.Range(0, k).Select(i => (i - 18) * 1e-39f).ToArray(),
        ];
        float[] a = rows.SelectMany(r => r).ToArray();
        int m = rows.Length;
        float[] bias = TestData.Uniform(n, 31);
        PackedInt8Matrix w = PackedInt8Matrix.Quantize(TestData.Uniform(n * k, 30), n, k, bias);
        float[] expected = QuantizedOracle.Multiply(a, m, k, w, bias, null);
        float[] actual = new float[m * n];
        QuantizedGemm.Multiply(a, m, k, w, actual, n, accumulate: false, kernel);
        TestData.AssertBitwiseEqual(expected, actual, $"specials on {kernel}");
        for (int r = 0; r < m; r++)
        {
            bool finiteRow = rows[r].All(float.IsFinite);
            Assert.All(actual.AsSpan(r * n, n).ToArray(), v => Assert.Equal(finiteRow, !float.IsNaN(v)));
        }
        TestData.AssertBitwiseEqual(bias, actual.AsSpan(n, n), "a zero row gives the bias");
        TestData.AssertBitwiseEqual(bias, actual.AsSpan(2 * n, n), "a row whose scale underflows gives the bias");
    }

    [Theory]
    [MemberData(nameof(Kernels))]
    public void ExtremeQuantizedValues_SumExactly(string kernelName)
    {
        // Every q at ±127 on both sides: the largest products, the +128 offset at its extremes, and sums far past 2^24
        // (where a float accumulator would round) must come out as exact integers.
        Int8Kernel kernel = Enum.Parse<Int8Kernel>(kernelName);
        const int m = 5, n = 64, k = 4099;
        sbyte[] q = Enumerable.Range(0, n * k).Select(i => (sbyte)((i / k) % 3 == 0 ? 127 : (i % 2 == 0 ? -127 : 127))).ToArray();
        float[] ones = Enumerable.Repeat(1f, n).ToArray();
        PackedInt8Matrix w = PackedInt8Matrix.FromQuantized(q, ones, n, k);
        float[] a = Enumerable.Range(0, m * k).Select(i => (i / k) switch { 0 => 1f, 1 => -1f, _ => (i % 3) - 1f }).ToArray();
        float[] expected = QuantizedOracle.Multiply(a, m, k, w, null, null);
        float[] actual = new float[m * n];
        QuantizedGemm.Multiply(a, m, k, w, actual, n, accumulate: false, kernel);
        TestData.AssertBitwiseEqual(expected, actual, $"extremes on {kernel}");
        Assert.Equal(127f * 127f * k / 127f, actual[0]); // row 0 · output 0: all 127 · 127, times scale 1/127
    }

    [Theory]
    [MemberData(nameof(Kernels))]
    public void LargestK_SumsExactly_ThoughUnsignedPartialSumsWrap(string kernelName)
    {
        // K = MaxColumns with every q = 127: the signed sum 127·127·K just fits an int32, while VNNI's unsigned
        // partial sums (q + 128)·q reach 255·127·K ≈ 4.3e9 and wrap; subtracting 128·Σq modulo 2^32 restores it.
        Int8Kernel kernel = Enum.Parse<Int8Kernel>(kernelName);
        const int n = 3, k = PackedInt8Matrix.MaxColumns;
        sbyte[] q = new sbyte[n * k];
        q.AsSpan(0, k).Fill(127);
        q.AsSpan(k, k).Fill(-127);
        for (int i = 0; i < k; i++)
        {
            q[(2 * k) + i] = (sbyte)(i % 2 == 0 ? 127 : -127);
        }
        PackedInt8Matrix w = PackedInt8Matrix.FromQuantized(q, [1f, 1f, 1f], n, k);
        float[] a = Enumerable.Repeat(0.5f, k).ToArray(); // quantizes to 127 everywhere
        float[] c = new float[n];
        QuantizedGemm.Multiply(a, 1, k, w, c, n, accumulate: false, kernel);
        float scale = 0.5f / 127f;
        Assert.Equal(MathF.FusedMultiplyAdd(127 * 127 * k, scale, 0f), c[0]);
        Assert.Equal(MathF.FusedMultiplyAdd(-127 * 127 * k, scale, 0f), c[1]);
        Assert.Equal(0f, c[2]);
    }

    // Against float32 weights and activations (in double): quantization moves each product a·w by at most
    // |a|·s_w/2 + |q_w·s_w|·s_a·(1/2 + 2^-16) (the 2^-16 covers the float division computing a / s_a), and the
    // float epilogue adds three roundings (int → float, s_a·s_w, the FMA) of at most 2^-24 relative each.
    [Theory]
    [MemberData(nameof(Kernels))]
    public void Multiply_WithinQuantizationBoundOfFloat(string kernelName)
    {
        Int8Kernel kernel = Enum.Parse<Int8Kernel>(kernelName);
        const int m = 9, n = 130, k = 257;
        float[] wf = TestData.Uniform(n * k, 40, 0.0625f), a = TestData.Uniform(m * k, 41), bias = TestData.Uniform(n, 42, 0.1f);
        PackedInt8Matrix w = PackedInt8Matrix.Quantize(wf, n, k, bias);
        var qw = new sbyte[n * k];
        var sw = new float[n];
        w.CopyQuantized(qw, sw);
        float[] c = new float[m * n];
        QuantizedGemm.Multiply(a, m, k, w, c, n, accumulate: false, kernel);
        double worst = 0;
        for (int i = 0; i < m; i++)
        {
            double sa = a.AsSpan(i * k, k).ToArray().Max(Math.Abs) / 127.0;
            for (int j = 0; j < n; j++)
            {
                double exact = bias[j], bound = 0, deq = 0;
                for (int kk = 0; kk < k; kk++)
                {
                    double av = a[(i * k) + kk];
                    exact += av * wf[(j * k) + kk];
                    bound += (Math.Abs(av) * sw[j] / 2) + (Math.Abs(qw[(j * k) + kk] * (double)sw[j]) * sa * (0.5 + Math.Pow(2, -16)));
                    deq += Math.Abs(av * qw[(j * k) + kk] * sw[j]);
                }
                bound += 4 * Math.Pow(2, -24) * (deq + Math.Abs(bias[j]) + Math.Abs(exact));
                double err = Math.Abs(c[(i * n) + j] - exact);
                worst = Math.Max(worst, err / bound);
                Assert.True(err <= bound, $"C[{i},{j}] = {c[(i * n) + j]} vs float {exact}: error {err} > bound {bound}");
            }
        }
        Assert.True(worst > 0.01, $"the bound should not be vacuous (worst error/bound {worst})");
    }

    [Fact]
    public void Multiply_SteadyState_AllocatesNothing()
    {
        const int n = 130;
        foreach (int k in new[] { 70, 5000 }) // stack scratch, then pooled scratch
        {
            PackedInt8Matrix w = PackedInt8Matrix.Quantize(TestData.Uniform(n * k, 1), n, k);
            float[] a = TestData.Uniform(3 * k, 2), c = new float[3 * n];
            // Past tiered compilation first (as Lstm.Core.Tests' Helpers.WarmUp): the runtime may allocate on the
            // calling thread when a method reaches its call-count threshold, which is not the steady state.
            for (int round = 0; round < 3; round++)
            {
                for (int i = 0; i < 100; i++)
                {
                    QuantizedGemm.Multiply(a, 3, k, w, c, n, accumulate: false);
                }
                Thread.Sleep(150);
            }
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 20; i++)
            {
                QuantizedGemm.Multiply(a, 3, k, w, c, n, accumulate: false);
            }
            Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        }
    }

    [Fact]
    public void SelfCheck_CoversEveryPathAndTile_AndFindsNoDifference()
    {
        IReadOnlyList<KernelComparison> results = QuantizedKernelCheck.Run();
        int vectorPaths = SimdPaths.Available.Count(p => p != SimdPath.Scalar);
        Assert.Equal((2 * vectorPaths) + Int8Kernels.Available.Count, results.Count);
        Assert.All(results, r => Assert.True(r.Differing == 0 && r.Compared > 0, $"{r.Kernel}: {r.Differing} of {r.Compared} differ"));
        Assert.Contains(results, r => r.Kernel.Contains("exact integer", StringComparison.Ordinal));
    }
}
