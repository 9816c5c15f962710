using Lstm.Simd;

namespace Lstm.Simd.Tests;

/// <summary>What every kernel test runs over: every path this CPU has, and the awkward sizes.</summary>
public static class TestData
{
    /// <summary>Around the vector widths (8, 16) and the GEMM tiles (4 rows; 16-column panels; 64- and 128-column blocks), plus primes.</summary>
    public static readonly int[] AwkwardSizes = [0, 1, 2, 3, 4, 5, 7, 8, 9, 11, 13, 15, 16, 17, 31, 32, 33, 37, 63, 64, 65, 127, 128, 129, 131];

    public static TheoryData<SimdPath> Paths()
    {
        var data = new TheoryData<SimdPath>();
        foreach (SimdPath p in SimdPaths.Available)
        {
            data.Add(p);
        }
        return data;
    }

    public static TheoryData<SimdPath, int> PathsBySize()
    {
        var data = new TheoryData<SimdPath, int>();
        foreach (SimdPath p in SimdPaths.Available)
        {
            foreach (int n in AwkwardSizes)
            {
                data.Add(p, n);
            }
        }
        return data;
    }

    /// <summary>Values in [-scale, scale] from a fixed seed.</summary>
    public static float[] Uniform(int n, int seed, float scale = 1f)
    {
        var rng = new Random(seed);
        var a = new float[n];
        for (int i = 0; i < n; i++)
        {
            a[i] = (float)(((rng.NextDouble() * 2) - 1) * scale);
        }
        return a;
    }

    /// <summary>Copies <paramref name="values"/> to the end of a larger array so that any read past the end would fault or differ.</summary>
    public static Memory<float> AtEndOfArray(float[] values, int leading = 13)
    {
        var backing = new float[leading + values.Length];
        backing.AsSpan(0, leading).Fill(float.NaN);
        values.CopyTo(backing, leading);
        return backing.AsMemory(leading);
    }

    public static void AssertBitwiseEqual(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            if (BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(actual[i]))
            {
                Assert.Fail($"{what}: element {i} of {expected.Length} is {actual[i]:R}, expected {expected[i]:R} bit for bit.");
            }
        }
    }

    /// <summary>One ulp of float at the magnitude of the exact <paramref name="value"/>: 2^(⌊log2|v|⌋ - 23), at least 2^-149.</summary>
    public static double Ulp(double value)
    {
        if (value == 0)
        {
            return Math.Pow(2, -149);
        }
        return Math.Pow(2, Math.Max(Math.ILogB(Math.Abs(value)) - 23, -149));
    }
}
