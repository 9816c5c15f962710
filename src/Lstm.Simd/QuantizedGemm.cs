using Lstm.Simd.QuantizedKernels;

namespace Lstm.Simd;

/// <summary>
/// The gate GEMMs with 16-bit or int8 weights: <c>C[M×N] = A[M×K]·Wᵀ + bias</c>, or <c>C += A·Wᵀ</c> when
/// <c>accumulate</c> (the bias is then not added). A and C are float32, row-major with row strides.
/// </summary>
public static class QuantizedGemm
{
    /// <summary>
    /// 16-bit weights: per output one FMA chain over k in order from the bias (or C, or 0), as <see cref="Gemm"/> does,
    /// so every path gives bitwise the result of <see cref="Gemm"/> on the widened weights.
    /// </summary>
    public static void Multiply(ReadOnlySpan<float> a, int m, int lda, PackedHalfMatrix w, Span<float> c, int ldc, bool accumulate, SimdPath? path = null)
    {
        ArgumentNullException.ThrowIfNull(w);
        SimdPath p = SimdPaths.Resolve(path);
        CheckOperands(a, m, lda, w.Columns, c, ldc, w.Rows);
        HalfDriver.Run(p, a, m, lda, w, c, ldc, accumulate);
    }

    /// <summary>
    /// int8 weights: each row of A is quantized on the fly (symmetric: scale = max|a_row| / 127, q = a / scale rounded to
    /// nearest even), the dot products are exact int32 sums, and <c>c = fma((float)sum, aScale · wScale[n], bias[n] or c or 0)</c>.
    /// Every path computes the same integers and the same floats. A row of A holding an infinity or NaN gives NaN in
    /// every output of that row. Allocates nothing in steady state.
    /// </summary>
    public static void Multiply(ReadOnlySpan<float> a, int m, int lda, PackedInt8Matrix w, Span<float> c, int ldc, bool accumulate, SimdPath? path = null)
    {
        ArgumentNullException.ThrowIfNull(w);
        SimdPath p = SimdPaths.Resolve(path);
        CheckOperands(a, m, lda, w.Columns, c, ldc, w.Rows);
        Int8Driver.Run(Int8Kernels.For(p), a, m, lda, w, c, ldc, accumulate);
    }

    /// <summary>The int8 GEMM on one integer tile variant (tests force each one this CPU runs).</summary>
    internal static void Multiply(ReadOnlySpan<float> a, int m, int lda, PackedInt8Matrix w, Span<float> c, int ldc, bool accumulate, Int8Kernel kernel)
    {
        CheckOperands(a, m, lda, w.Columns, c, ldc, w.Rows);
        Int8Driver.Run(kernel, a, m, lda, w, c, ldc, accumulate);
    }

    private static void CheckOperands(ReadOnlySpan<float> a, int m, int lda, int k, ReadOnlySpan<float> c, int ldc, int n)
    {
        Check.Matrix(a, m, k, lda, nameof(a));
        Check.Matrix(c, m, n, ldc, nameof(c));
        Check.Disjoint(a, nameof(a), c, nameof(c));
    }
}
