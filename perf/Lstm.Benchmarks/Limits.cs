using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using BenchmarkDotNet.Attributes;

namespace Lstm.Benchmarks;

/// <summary>
/// The machine's limits, measured in the same run as the kernels so results read as fractions of them:
/// the FMA peak (independent FMA chains on registers) and the read bandwidth over a buffer the size of a GEMM's weights.
/// </summary>
[BenchmarkCategory("Limit")]
public class Limits
{
    public const long FmaIterations = 1 << 20;

    private float[] buffer = [];

    /// <summary>
    /// Bytes read, matching the weights the kernels stream: 256 KiB (1×512×128), 1 MiB (1×1024×256, and W_hh at
    /// H = 256), 2 MiB (a step's [4H, I+H] at H = 256), 4 MiB (1×2048×512), 8 MiB (a step at H = 512).
    /// </summary>
    [Params(256 * 1024, 1024 * 1024, 2 * 1024 * 1024, 4 * 1024 * 1024, 8 * 1024 * 1024)]
    public int Bytes { get; set; }

    [GlobalSetup]
    public void Setup() => buffer = Enumerable.Range(0, Bytes / 4).Select(i => (float)(i % 7)).ToArray();

    /// <summary>12 independent chains × 16 lanes × 2 flop per iteration.</summary>
    [Benchmark]
    public float FmaPeakVector512() => Fma512(FmaIterations);

    /// <summary>12 independent chains × 8 lanes × 2 flop per iteration.</summary>
    [Benchmark]
    public float FmaPeakVector256() => Fma256(FmaIterations);

    [Benchmark]
    public float ReadVector512()
    {
        ref float p = ref MemoryMarshal.GetArrayDataReference(buffer);
        Vector512<float> s0 = default, s1 = default, s2 = default, s3 = default;
        nuint n = (nuint)buffer.Length;
        for (nuint i = 0; i + 64 <= n; i += 64)
        {
            s0 += Vector512.LoadUnsafe(ref p, i);
            s1 += Vector512.LoadUnsafe(ref p, i + 16);
            s2 += Vector512.LoadUnsafe(ref p, i + 32);
            s3 += Vector512.LoadUnsafe(ref p, i + 48);
        }
        return Vector512.Sum(s0 + s1 + s2 + s3);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Fma512(long n)
    {
        var m = Vector512.Create(0.999f);
        var a = Vector512.Create(1e-3f);
        Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default,
            c6 = default, c7 = default, c8 = default, c9 = default, c10 = default, c11 = default;
        for (long i = 0; i < n; i++)
        {
            c0 = Vector512.FusedMultiplyAdd(c0, m, a); c1 = Vector512.FusedMultiplyAdd(c1, m, a);
            c2 = Vector512.FusedMultiplyAdd(c2, m, a); c3 = Vector512.FusedMultiplyAdd(c3, m, a);
            c4 = Vector512.FusedMultiplyAdd(c4, m, a); c5 = Vector512.FusedMultiplyAdd(c5, m, a);
            c6 = Vector512.FusedMultiplyAdd(c6, m, a); c7 = Vector512.FusedMultiplyAdd(c7, m, a);
            c8 = Vector512.FusedMultiplyAdd(c8, m, a); c9 = Vector512.FusedMultiplyAdd(c9, m, a);
            c10 = Vector512.FusedMultiplyAdd(c10, m, a); c11 = Vector512.FusedMultiplyAdd(c11, m, a);
        }
        return Vector512.Sum(c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Fma256(long n)
    {
        var m = Vector256.Create(0.999f);
        var a = Vector256.Create(1e-3f);
        Vector256<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default,
            c6 = default, c7 = default, c8 = default, c9 = default, c10 = default, c11 = default;
        for (long i = 0; i < n; i++)
        {
            c0 = Vector256.FusedMultiplyAdd(c0, m, a); c1 = Vector256.FusedMultiplyAdd(c1, m, a);
            c2 = Vector256.FusedMultiplyAdd(c2, m, a); c3 = Vector256.FusedMultiplyAdd(c3, m, a);
            c4 = Vector256.FusedMultiplyAdd(c4, m, a); c5 = Vector256.FusedMultiplyAdd(c5, m, a);
            c6 = Vector256.FusedMultiplyAdd(c6, m, a); c7 = Vector256.FusedMultiplyAdd(c7, m, a);
            c8 = Vector256.FusedMultiplyAdd(c8, m, a); c9 = Vector256.FusedMultiplyAdd(c9, m, a);
            c10 = Vector256.FusedMultiplyAdd(c10, m, a); c11 = Vector256.FusedMultiplyAdd(c11, m, a);
        }
        return Vector256.Sum(c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11);
    }
}
