using Lstm.Simd;

namespace Lstm.Simd.Tests;

/// <summary><see cref="PackedMatrix.Repack"/>: the same panels as a fresh pack, in the same buffers, allocating nothing.</summary>
public class RepackTests
{
    public static TheoryData<int, int> Sizes()
    {
        var data = new TheoryData<int, int>();
        foreach ((int n, int k) in TestData.AwkwardSizes.Select(s => (s, 17)).Concat(TestData.AwkwardSizes.Select(s => (9, s))).Distinct())
        {
            data.Add(n, k); // rows vary, then columns (each shape once: xunit skips a repeated row)
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void Repack_GivesEveryGemmTheBitsOfAFreshPack(int n, int k)
    {
        float[] w0 = TestData.Uniform(n * k, 1), w1 = TestData.Uniform(n * k, 2), b0 = TestData.Uniform(n, 3), b1 = TestData.Uniform(n, 4);
        float[] a = TestData.Uniform(3 * k, 5), dc = TestData.Uniform(3 * n, 6);
        PackedMatrix withBias = PackedMatrix.Pack(w0, n, k, b0), plain = PackedMatrix.Pack(w0, n, k);
        PackedMatrix withBackward = PackedMatrix.Pack(w0, n, k, forBackward: true);
        withBias.Repack(w1, b1);
        plain.Repack(w1);
        withBackward.Repack(w1);
        PackedMatrix fresh = PackedMatrix.Pack(w1, n, k, b1), freshPlain = PackedMatrix.Pack(w1, n, k);
        foreach (SimdPath path in SimdPaths.Available)
        {
            float[] expected = new float[3 * n], actual = new float[3 * n];
            Gemm.Multiply(a, 3, fresh, expected, path);
            Gemm.Multiply(a, 3, withBias, actual, path);
            TestData.AssertBitwiseEqual(expected, actual, $"A·Wᵀ + b on {path}");
            Gemm.Multiply(a, 3, freshPlain, expected, path);
            Gemm.Multiply(a, 3, plain, actual, path);
            TestData.AssertBitwiseEqual(expected, actual, $"A·Wᵀ on {path}");
            float[] daExpected = new float[3 * k], da = new float[3 * k];
            Gemm.MultiplyByWeights(dc, 3, freshPlain, daExpected, path: path);
            Gemm.MultiplyByWeights(dc, 3, withBackward, da, path: path); // backward panels packed at Pack: repacked too
            TestData.AssertBitwiseEqual(daExpected, da, $"dC·W on {path}");
        }
        float[] back = new float[n * k];
        withBias.CopyWeightsTo(back);
        TestData.AssertBitwiseEqual(w1, back, "unpacked");
    }

    [Fact]
    public void Repack_LazilyPackedBackwardPanels_FollowTheNewWeights()
    {
        float[] w0 = TestData.Uniform(40 * 20, 1), w1 = TestData.Uniform(40 * 20, 2), dc = TestData.Uniform(40, 3);
        PackedMatrix m = PackedMatrix.Pack(w0, 40, 20);
        float[] da = new float[20], expected = new float[20];
        Gemm.MultiplyByWeights(dc, 1, m, da); // packs the backward panels of w0
        m.Repack(w1);
        Gemm.MultiplyByWeights(dc, 1, m, da);
        Gemm.MultiplyByWeights(dc, 1, PackedMatrix.Pack(w1, 40, 20), expected);
        TestData.AssertBitwiseEqual(expected, da, "dC·W after a repack");
    }

    [Fact]
    public void Repack_AllocatesNothing()
    {
        float[] w = TestData.Uniform(64 * 48, 1), b = TestData.Uniform(64, 2);
        PackedMatrix m = PackedMatrix.Pack(w, 64, 48, b, forBackward: true);
        m.Repack(w, b);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++) m.Repack(w, b);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void Repack_RefusesAnotherShape_NamingTheArgument()
    {
        PackedMatrix withBias = PackedMatrix.Pack(new float[6], 2, 3, new float[2]), plain = PackedMatrix.Pack(new float[6], 2, 3);
        var e = Assert.Throws<ArgumentException>(() => withBias.Repack(new float[5], new float[2]));
        Assert.Equal("weights", e.ParamName);
        Assert.Contains("[2, 3]", e.Message);
        e = Assert.Throws<ArgumentException>(() => withBias.Repack(new float[6]));
        Assert.Equal("bias", e.ParamName);
        e = Assert.Throws<ArgumentException>(() => plain.Repack(new float[6], new float[2]));
        Assert.Equal("bias", e.ParamName);
    }
}
