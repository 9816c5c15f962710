using Lstm.Core;
using Lstm.Core.Reference;
using Lstm.Simd;

namespace Lstm.Core.Tests;

internal static class Helpers
{
    public static double[] Uniform(int n, int seed, double scale = 1)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => ((rng.NextDouble() * 2) - 1) * scale).ToArray();
    }

    public static float[] ToFloat(double[] a) => Array.ConvertAll(a, v => (float)v);

    public static double[] ToDouble(float[] a) => Array.ConvertAll(a, v => (double)v);

    public static TheoryData<SimdPath> Paths()
    {
        var d = new TheoryData<SimdPath>();
        foreach (SimdPath p in SimdPaths.Available) d.Add(p);
        return d;
    }

    /// <summary>The repository: the directory of Lstm.sln, found by walking up from the test binary.</summary>
    public static string RepositoryRoot() => Lstm.Tests.Shared.Repository.Root();

    public static string SharedDirectory() => Lstm.Tests.Shared.Repository.Shared();

    /// <summary>Worst |a - b| / (1 + |b|) over two arrays.</summary>
    public static double WorstError(float[] actual, double[] expected)
    {
        Assert.Equal(expected.Length, actual.Length);
        double w = 0;
        for (int i = 0; i < actual.Length; i++) w = Math.Max(w, Math.Abs(actual[i] - expected[i]) / (1 + Math.Abs(expected[i])));
        return w;
    }

    public static void AssertBitwise(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            if (BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(actual[i]))
            {
                Assert.Fail($"{what}[{i}] = {actual[i]:R}, expected {expected[i]:R} bit for bit");
            }
        }
    }
}
