namespace Lstm.Simd.Tests;

/// <summary>
/// The int8 GEMM written out from its documented definition, independently of the kernels: the same quantization
/// of A (the float operations the contract names), exact integer sums in long, then the same final float operations.
/// </summary>
public static class QuantizedOracle
{
    public static (sbyte[] Q, float[] Scales) QuantizeRows(float[] a, int m, int k)
    {
        var q = new sbyte[m * k];
        var scales = new float[m];
        for (int i = 0; i < m; i++)
        {
            float maxAbs = 0f;
            bool finite = true;
            for (int kk = 0; kk < k; kk++)
            {
                float v = a[(i * k) + kk];
                finite &= float.IsFinite(v);
                maxAbs = Math.Max(maxAbs, Math.Abs(v));
            }
            float scale = !finite ? float.NaN : maxAbs / 127f;
            scales[i] = scale;
            for (int kk = 0; kk < k; kk++)
            {
                q[(i * k) + kk] = !finite || scale == 0f ? (sbyte)0 : (sbyte)Math.Clamp(MathF.Round(a[(i * k) + kk] / scale), -127f, 127f);
            }
        }
        return (q, scales);
    }

    public static long[] IntegerSums(sbyte[] qa, sbyte[] qw, int m, int n, int k)
    {
        var sums = new long[m * n];
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                long s = 0;
                for (int kk = 0; kk < k; kk++)
                {
                    s += qa[(i * k) + kk] * (long)qw[(j * k) + kk];
                }
                sums[(i * n) + j] = s;
            }
        }
        return sums;
    }

    /// <summary>C as the contract defines it; <paramref name="c0"/> is C before an accumulating call (or null).</summary>
    public static float[] Multiply(float[] a, int m, int k, PackedInt8Matrix w, float[]? bias, float[]? c0)
    {
        int n = w.Rows;
        var qw = new sbyte[n * k];
        var ws = new float[n];
        w.CopyQuantized(qw, ws);
        var (qa, aScales) = QuantizeRows(a, m, k);
        long[] sums = IntegerSums(qa, qw, m, n, k);
        var c = new float[m * n];
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                float init = c0 is not null ? c0[(i * n) + j] : bias is not null ? bias[j] : 0f;
                c[(i * n) + j] = MathF.FusedMultiplyAdd((float)checked((int)sums[(i * n) + j]), aScales[i] * ws[j], init);
            }
        }
        return c;
    }
}
