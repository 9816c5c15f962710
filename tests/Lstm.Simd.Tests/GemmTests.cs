using Lstm.Simd;

namespace Lstm.Simd.Tests;

public class GemmTests
{
    // Each output is one FMA chain of K terms: |error| ≤ (K + 1)·2^-24·Σ|a_k·w_k| + the bias's own rounding
    // (the classic bound for recursive summation with one rounding per step, u = 2^-24).
    private static double Bound(int terms, double absSum) => ((terms + 1) * Math.Pow(2, -24) * absSum) + 1e-30;

    public static TheoryData<SimdPath, int, int, int> Shapes()
    {
        var data = new TheoryData<SimdPath, int, int, int>();
        foreach ((SimdPath p, int m, int n, int k) in ShapeList())
        {
            data.Add(p, m, n, k);
        }
        return data;
    }

    // Each shape once: the three sweeps meet at (5, 33, 17), and xunit skips a repeated row with a warning.
    private static IEnumerable<(SimdPath, int, int, int)> ShapeList()
    {
        var shapes = new List<(SimdPath, int, int, int)>();
        foreach (SimdPath p in SimdPaths.Available)
        {
            foreach (int s in TestData.AwkwardSizes)
            {
                shapes.Add((p, s, 33, 17)); // M varies
                shapes.Add((p, 5, s, 17));  // N varies
                shapes.Add((p, 5, 33, s));  // K varies
            }
            shapes.Add((p, 1, 1024, 256));  // the latency case: one sequence, one step
            shapes.Add((p, 64, 260, 70));
        }
        return shapes.Distinct();
    }

    [Fact]
    public void Shapes_HaveNoRepeatedRow() =>
        Assert.Equal(Shapes().Select(r => string.Join(",", r)).Distinct().Count(), Shapes().Count);

    private static (float[] W, float[] Bias, float[] A) Operands(int m, int n, int k)
    {
        int seed = (m * 1000003) + (n * 1009) + k;
        return (TestData.Uniform(n * k, seed), TestData.Uniform(n, seed + 1), TestData.Uniform(m * k, seed + 2));
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Multiply_EqualsScalarTwinBitwise_AndDoubleReferenceWithinBound(SimdPath path, int m, int n, int k)
    {
        var (w, bias, a) = Operands(m, n, k);
        PackedMatrix packed = PackedMatrix.Pack(w, n, k, bias);

        float[] expected = new float[m * n];
        Gemm.Multiply(a, m, packed, expected, SimdPath.Scalar);
        Memory<float> c = TestData.AtEndOfArray(new float[m * n]);
        Gemm.Multiply(TestData.AtEndOfArray(a).Span, m, packed, c.Span, path);
        TestData.AssertBitwiseEqual(expected, c.Span, $"C on {path}");

        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double exact = bias[j], abs = Math.Abs(bias[j]);
                for (int kk = 0; kk < k; kk++)
                {
                    exact += (double)a[(i * k) + kk] * w[(j * k) + kk];
                    abs += Math.Abs((double)a[(i * k) + kk] * w[(j * k) + kk]);
                }
                Assert.True(Math.Abs(expected[(i * n) + j] - exact) <= Bound(k, abs), $"C[{i},{j}] = {expected[(i * n) + j]} vs {exact}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void MultiplyAdd_AddsToC_WithoutBias(SimdPath path, int m, int n, int k)
    {
        var (w, bias, a) = Operands(m, n, k);
        PackedMatrix withBias = PackedMatrix.Pack(w, n, k, bias);
        PackedMatrix noBias = PackedMatrix.Pack(w, n, k);
        float[] c0 = TestData.Uniform(m * n, 99);

        float[] expected = (float[])c0.Clone();
        Gemm.MultiplyAdd(a, m, noBias, expected, SimdPath.Scalar);
        float[] c = (float[])c0.Clone();
        Gemm.MultiplyAdd(a, m, withBias, c, path); // the packed bias must not be added
        TestData.AssertBitwiseEqual(expected, c, "C += A·Wᵀ");

        // and it is C + (A·Wᵀ) computed as one chain starting from C
        float[] fresh = new float[m * n];
        Gemm.Multiply(a, m, noBias, fresh, path);
        for (int i = 0; i < c.Length; i++)
        {
            Assert.True(Math.Abs(c[i] - (c0[i] + (double)fresh[i])) <= Bound(k + 1, Math.Abs(c0[i]) + k), $"element {i}");
        }
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void MultiplyByWeights_EqualsScalarTwin_AndReference(SimdPath path, int m, int n, int k)
    {
        var (w, _, _) = Operands(m, n, k);
        float[] dc = TestData.Uniform(m * n, 7);
        PackedMatrix packed = PackedMatrix.Pack(w, n, k);
        float[] expected = new float[m * k];
        Gemm.MultiplyByWeights(dc, m, packed, expected, path: SimdPath.Scalar);
        Memory<float> da = TestData.AtEndOfArray(new float[m * k]);
        Gemm.MultiplyByWeights(TestData.AtEndOfArray(dc).Span, m, packed, da.Span, path: path);
        TestData.AssertBitwiseEqual(expected, da.Span, $"dA on {path}");

        for (int i = 0; i < m; i++)
        {
            for (int kk = 0; kk < k; kk++)
            {
                double exact = 0, abs = 0;
                for (int j = 0; j < n; j++)
                {
                    exact += (double)dc[(i * n) + j] * w[(j * k) + kk];
                    abs += Math.Abs((double)dc[(i * n) + j] * w[(j * k) + kk]);
                }
                Assert.True(Math.Abs(expected[(i * k) + kk] - exact) <= Bound(n, abs), $"dA[{i},{kk}]");
            }
        }

        float[] accumulated = Enumerable.Repeat(1f, m * k).ToArray();
        Gemm.MultiplyByWeights(dc, m, packed, accumulated, accumulate: true, path: path);
        for (int i = 0; i < accumulated.Length; i++)
        {
            Assert.True(Math.Abs(accumulated[i] - (1 + (double)expected[i])) <= Bound(n + 1, n + 1.0), $"accumulated dA element {i}");
        }
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void AccumulateWeightGradient_EqualsScalarTwin_AndReference(SimdPath path, int m, int n, int k)
    {
        float[] dc = TestData.Uniform(m * n, 11);
        float[] a = TestData.Uniform(m * k, 12);
        float[] dw0 = TestData.Uniform(n * k, 13);

        float[] expected = (float[])dw0.Clone();
        Gemm.AccumulateWeightGradient(dc, a, m, n, k, expected, SimdPath.Scalar);
        Memory<float> dw = TestData.AtEndOfArray(dw0);
        Gemm.AccumulateWeightGradient(TestData.AtEndOfArray(dc).Span, TestData.AtEndOfArray(a).Span, m, n, k, dw.Span, path);
        TestData.AssertBitwiseEqual(expected, dw.Span, $"dW on {path}");

        for (int j = 0; j < n; j++)
        {
            for (int kk = 0; kk < k; kk++)
            {
                double exact = dw0[(j * k) + kk], abs = Math.Abs(exact);
                for (int i = 0; i < m; i++)
                {
                    exact += (double)dc[(i * n) + j] * a[(i * k) + kk];
                    abs += Math.Abs((double)dc[(i * n) + j] * a[(i * k) + kk]);
                }
                Assert.True(Math.Abs(expected[(j * k) + kk] - exact) <= Bound(m, abs), $"dW[{j},{kk}]");
            }
        }
    }

    public static TheoryData<SimdPath, int> PathsAndChunkRows()
    {
        var data = new TheoryData<SimdPath, int>();
        foreach (SimdPath p in SimdPaths.Available)
        {
            foreach (int m in new[] { 63, 64, 65, 128, 129, 200 })
            {
                data.Add(p, m);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(PathsAndChunkRows))]
    public void AccumulateWeightGradient_IsOneFmaChainOverTheRows_WhateverItsChunks(SimdPath path, int m)
    {
        // The rows go through in chunks (64 here); the chunk must not show in the bits: every element is the same
        // single FMA chain as a plain loop over all m rows in order.
        const int n = 70, k = 33;
        float[] dc = TestData.Uniform(m * n, 21), a = TestData.Uniform(m * k, 22), dw = TestData.Uniform(n * k, 23);
        float[] expected = (float[])dw.Clone();
        for (int j = 0; j < n; j++)
        {
            for (int kk = 0; kk < k; kk++)
            {
                float acc = expected[(j * k) + kk];
                for (int i = 0; i < m; i++)
                {
                    acc = MathF.FusedMultiplyAdd(dc[(i * n) + j], a[(i * k) + kk], acc);
                }
                expected[(j * k) + kk] = acc;
            }
        }
        Gemm.AccumulateWeightGradient(dc, a, m, n, k, dw, path);
        TestData.AssertBitwiseEqual(expected, dw, $"dW on {path}, m = {m}");
    }

    [Theory]
    [MemberData(nameof(TestData.Paths), MemberType = typeof(TestData))]
    public void StridedOperands_GiveTheSameAsDenseOnes(SimdPath path)
    {
        const int M = 6, N = 37, K = 19, Lda = 25, Ldc = 50;
        var (w, bias, a) = Operands(M, N, K);
        PackedMatrix packed = PackedMatrix.Pack(w, N, K, bias);
        float[] dense = new float[M * N];
        Gemm.Multiply(a, M, packed, dense, path);

        float[] aStrided = new float[((M - 1) * Lda) + K];
        for (int i = 0; i < M; i++) a.AsSpan(i * K, K).CopyTo(aStrided.AsSpan(i * Lda));
        float[] cStrided = Enumerable.Repeat(-7f, ((M - 1) * Ldc) + N).ToArray();
        Gemm.Multiply(aStrided, M, Lda, packed, cStrided, Ldc, path);
        for (int i = 0; i < M; i++)
        {
            TestData.AssertBitwiseEqual(dense.AsSpan(i * N, N), cStrided.AsSpan(i * Ldc, N), $"row {i}");
            if (i < M - 1)
            {
                Assert.All(cStrided.AsSpan((i * Ldc) + N, Ldc - N).ToArray(), v => Assert.Equal(-7f, v)); // gaps untouched
            }
        }
    }

    [Fact]
    public void RowsOfOneMultiply_EqualTheSameRowsInABatch()
    {
        // Determinism across batch sizes: a streaming step (M = 1) gives the bits of the same row in a batch.
        const int M = 9, N = 200, K = 45;
        var (w, bias, a) = Operands(M, N, K);
        PackedMatrix packed = PackedMatrix.Pack(w, N, K, bias);
        float[] batch = new float[M * N];
        Gemm.Multiply(a, M, packed, batch);
        for (int i = 0; i < M; i++)
        {
            float[] one = new float[N];
            Gemm.Multiply(a.AsSpan(i * K, K), 1, packed, one);
            TestData.AssertBitwiseEqual(batch.AsSpan(i * N, N), one, $"row {i}");
        }
    }

    [Fact]
    public void Pack_RoundTripsTheWeights()
    {
        float[] w = TestData.Uniform(37 * 19, 3);
        float[] back = new float[w.Length];
        PackedMatrix.Pack(w, 37, 19).CopyWeightsTo(back);
        TestData.AssertBitwiseEqual(w, back, "unpacked");
    }

    [Fact]
    public void BadShapes_ThrowNamingTheArgumentAndTheShapes()
    {
        PackedMatrix packed = PackedMatrix.Pack(new float[12 * 5], 12, 5);
        var e = Assert.Throws<ArgumentException>(() => Gemm.Multiply(new float[2 * 5], 3, packed, new float[3 * 12]));
        Assert.Equal("a", e.ParamName);
        Assert.Contains("[3, 5]", e.Message);
        Assert.Contains("10", e.Message);

        e = Assert.Throws<ArgumentException>(() => Gemm.Multiply(new float[3 * 5], 3, packed, new float[3 * 11]));
        Assert.Equal("c", e.ParamName);
        Assert.Contains("[3, 12]", e.Message);

        e = Assert.Throws<ArgumentException>(() => PackedMatrix.Pack(new float[12 * 5], 12, 6));
        Assert.Equal("weights", e.ParamName);
        Assert.Contains("[12, 6]", e.Message);

        e = Assert.Throws<ArgumentException>(() => PackedMatrix.Pack(new float[12 * 5], 12, 5, new float[11]));
        Assert.Equal("bias", e.ParamName);

        Assert.Throws<ArgumentOutOfRangeException>(() => Gemm.Multiply(new float[15], -1, packed, new float[36]));
        Assert.Throws<ArgumentOutOfRangeException>(() => Gemm.Multiply(new float[15], 3, 4, packed, new float[36], 12));

        e = Assert.Throws<ArgumentException>(() => Gemm.AccumulateWeightGradient(new float[3 * 12], new float[3 * 5], 3, 12, 5, new float[59]));
        Assert.Equal("dw", e.ParamName);
        Assert.Contains("[12, 5]", e.Message);

        float[] shared = new float[100];
        e = Assert.Throws<ArgumentException>(() => Gemm.Multiply(shared.AsSpan(0, 15), 3, packed, shared.AsSpan(10, 36)));
        Assert.Equal("c", e.ParamName);
    }
}
