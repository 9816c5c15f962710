using Lstm.Simd.QuantizedKernels;

namespace Lstm.Simd;

/// <summary>One kernel's self-check: how many of the output values compared differ in their bits from the reference.</summary>
public readonly record struct KernelComparison(string Kernel, int Differing, int Compared);

/// <summary>
/// A self-check of the 16-bit and int8 GEMMs on this CPU, for <c>lstm verify</c>: each 16-bit path and each int8
/// integer tile this CPU runs (VNNI and widening variants included) against the scalar twin, bit for bit, on
/// awkward shapes with special activations (a zero row, a NaN row, subnormals, huge values); and the int8 scalar
/// twin against exact integer sums computed here.
/// </summary>
public static class QuantizedKernelCheck
{
    private static readonly (int M, int N, int K)[] Shapes = [(1, 130, 257), (5, 67, 33), (4, 64, 9), (9, 200, 1031)];

    /// <summary>One entry per kernel; every <see cref="KernelComparison.Differing"/> is 0 when the kernels are right.</summary>
    public static IReadOnlyList<KernelComparison> Run()
    {
        var results = new List<KernelComparison>();
        foreach (WeightFormat format in new[] { WeightFormat.BFloat16, WeightFormat.Float16 })
        {
            foreach (SimdPath path in SimdPaths.Available.Where(p => p != SimdPath.Scalar))
            {
                int differing = 0, compared = 0;
                foreach (var (m, n, k) in Shapes)
                {
                    float[] a = Activations(m, k), w = Uniform(n * k, n + k, 1f), c0 = Uniform(m * n, m, 1f);
                    PackedHalfMatrix packed = PackedHalfMatrix.Pack(w, n, k, format, Uniform(n, 7, 1f));
                    foreach (bool accumulate in new[] { false, true })
                    {
                        float[] expected = (float[])c0.Clone(), actual = (float[])c0.Clone();
                        QuantizedGemm.Multiply(a, m, k, packed, expected, n, accumulate, SimdPath.Scalar);
                        QuantizedGemm.Multiply(a, m, k, packed, actual, n, accumulate, path);
                        differing += CountDiffering(expected, actual);
                        compared += expected.Length;
                    }
                }
                results.Add(new($"{format} GEMM: {SimdPaths.Name(path)} vs scalar", differing, compared));
            }
        }
        foreach (Int8Kernel kernel in Int8Kernels.Available)
        {
            int differing = 0, compared = 0;
            foreach (var (m, n, k) in Shapes)
            {
                float[] a = Activations(m, k);
                float[] bias = Uniform(n, 9, 1f);
                PackedInt8Matrix packed = PackedInt8Matrix.Quantize(Uniform(n * k, n * k, 1f), n, k, bias);
                float[] expected = kernel == Int8Kernel.Scalar ? ExactInt8(a, m, k, packed, bias) : new float[m * n];
                if (kernel != Int8Kernel.Scalar)
                {
                    QuantizedGemm.Multiply(a, m, k, packed, expected, n, accumulate: false, Int8Kernel.Scalar);
                }
                float[] actual = new float[m * n];
                QuantizedGemm.Multiply(a, m, k, packed, actual, n, accumulate: false, kernel);
                differing += CountDiffering(expected, actual);
                compared += expected.Length;
            }
            string name = kernel == Int8Kernel.Scalar ? "int8 GEMM: scalar vs exact integer sums" : $"int8 GEMM: {kernel} tile vs scalar";
            results.Add(new(name, differing, compared));
        }
        return results;
    }

    /// <summary>The int8 result from its definition: the scalar row quantizer, sums in long, the documented epilogue.</summary>
    private static float[] ExactInt8(float[] a, int m, int k, PackedInt8Matrix w, float[] bias)
    {
        int n = w.Rows;
        var qw = new sbyte[n * k];
        var ws = new float[n];
        w.CopyQuantized(qw, ws);
        var qa = new sbyte[Int8Layout.PaddedK(k)];
        var c = new float[m * n];
        for (int i = 0; i < m; i++)
        {
            float sa = ActivationQuantizer.QuantizeRow(ref a[i * k], k, qa);
            for (int j = 0; j < n; j++)
            {
                long sum = 0;
                for (int kk = 0; kk < k; kk++)
                {
                    sum += qa[kk] * (long)qw[(j * k) + kk];
                }
                c[(i * n) + j] = MathF.FusedMultiplyAdd(checked((int)sum), sa * ws[j], bias[j]);
            }
        }
        return c;
    }

    /// <summary>Uniform rows, except: row 1 zero, row 2 with a NaN, row 3 subnormals and huge values mixed.</summary>
    private static float[] Activations(int m, int k)
    {
        float[] a = Uniform(m * k, m * k, 2f);
        if (m > 3)
        {
            a.AsSpan(k, k).Clear();
            a[(2 * k) + (k / 2)] = float.NaN;
            for (int i = 0; i < k; i++)
            {
                a[(3 * k) + i] = i % 3 == 0 ? float.Epsilon * i : i % 3 == 1 ? 1e30f : -0f;
            }
        }
        return a;
    }

    private static float[] Uniform(int n, int seed, float scale)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)(((rng.NextDouble() * 2) - 1) * scale)).ToArray();
    }

    private static int CountDiffering(float[] expected, float[] actual) =>
        expected.Zip(actual).Count(t => BitConverter.SingleToInt32Bits(t.First) != BitConverter.SingleToInt32Bits(t.Second));
}
