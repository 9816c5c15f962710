using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Lstm.Simd.GemmKernels;

namespace Lstm.Simd;

/// <summary>
/// The gate GEMMs: <c>C = A·Wᵀ + bias</c> and <c>C += A·Wᵀ</c> for the forward pass, <c>dA = dC·W</c> and
/// <c>dW += dCᵀ·A</c> for backpropagation. Matrices are row-major with a leading dimension (row stride) each.
/// Every output element is one FMA chain over k in order, so all paths and all M give bitwise the same values.
/// </summary>
public static class Gemm
{
    /// <summary>C[M×N] = A[M×K]·Wᵀ + bias (bias as packed with <paramref name="w"/>, or 0).</summary>
    public static void Multiply(ReadOnlySpan<float> a, int m, PackedMatrix w, Span<float> c, SimdPath? path = null)
    {
        ArgumentNullException.ThrowIfNull(w);
        Multiply(a, m, w.Columns, w, c, w.Rows, path);
    }

    /// <summary>C[M×N] = A[M×K]·Wᵀ + bias with row strides <paramref name="lda"/> and <paramref name="ldc"/>.</summary>
    public static void Multiply(ReadOnlySpan<float> a, int m, int lda, PackedMatrix w, Span<float> c, int ldc, SimdPath? path = null) =>
        Forward(a, m, lda, w, c, ldc, accumulate: false, path);

    /// <summary>C[M×N] += A[M×K]·Wᵀ (the bias is not added).</summary>
    public static void MultiplyAdd(ReadOnlySpan<float> a, int m, PackedMatrix w, Span<float> c, SimdPath? path = null)
    {
        ArgumentNullException.ThrowIfNull(w);
        MultiplyAdd(a, m, w.Columns, w, c, w.Rows, path);
    }

    /// <summary>C[M×N] += A[M×K]·Wᵀ with row strides <paramref name="lda"/> and <paramref name="ldc"/>.</summary>
    public static void MultiplyAdd(ReadOnlySpan<float> a, int m, int lda, PackedMatrix w, Span<float> c, int ldc, SimdPath? path = null) =>
        Forward(a, m, lda, w, c, ldc, accumulate: true, path);

    /// <summary>dA[M×K] = dC[M×N]·W, or += when <paramref name="accumulate"/>.</summary>
    public static void MultiplyByWeights(ReadOnlySpan<float> dc, int m, PackedMatrix w, Span<float> da, bool accumulate = false, SimdPath? path = null)
    {
        ArgumentNullException.ThrowIfNull(w);
        MultiplyByWeights(dc, m, w.Rows, w, da, w.Columns, accumulate, path);
    }

    /// <summary>dA[M×K] (+)= dC[M×N]·W with row strides <paramref name="lddc"/> and <paramref name="ldda"/>.</summary>
    public static void MultiplyByWeights(ReadOnlySpan<float> dc, int m, int lddc, PackedMatrix w, Span<float> da, int ldda, bool accumulate = false, SimdPath? path = null)
    {
        ArgumentNullException.ThrowIfNull(w);
        SimdPath p = SimdPaths.Resolve(path);
        Check.Matrix(dc, m, w.Rows, lddc, nameof(dc));
        Check.Matrix(da, m, w.Columns, ldda, nameof(da));
        Check.Disjoint(dc, nameof(dc), da, nameof(da));
        if (w.Rows == 0 && !accumulate)
        {
            ClearMatrix(da, m, w.Columns, ldda);
            return;
        }
        GemmDriver.Run(p, m, w.Columns, w.Rows, ref MemoryMarshal.GetReference(dc), lddc, 1,
            ref MemoryMarshal.GetReference(w.BackwardPanels), ref MemoryMarshal.GetReference(da), ldda,
            accumulate ? GemmInit.Accumulate : GemmInit.Zero, ref MemoryMarshal.GetReference(ReadOnlySpan<float>.Empty));
    }

    /// <summary>dW[N×K] += dCᵀ·A, where dC is [M×N] and A is [M×K]: the weight gradient summed over all M rows.</summary>
    public static void AccumulateWeightGradient(ReadOnlySpan<float> dc, ReadOnlySpan<float> a, int m, int n, int k, Span<float> dw, SimdPath? path = null) =>
        AccumulateWeightGradient(dc, n, a, k, m, n, k, dw, path);

    /// <summary>dW[N×K] += dCᵀ·A with row strides <paramref name="lddc"/> for dC and <paramref name="lda"/> for A; dW is dense.</summary>
    public static void AccumulateWeightGradient(ReadOnlySpan<float> dc, int lddc, ReadOnlySpan<float> a, int lda, int m, int n, int k, Span<float> dw, SimdPath? path = null)
    {
        SimdPath p = SimdPaths.Resolve(path);
        Check.NonNegative(n, nameof(n));
        Check.NonNegative(k, nameof(k));
        Check.Matrix(dc, m, n, lddc, nameof(dc));
        Check.Matrix(a, m, k, lda, nameof(a));
        Check.Length(dw, (long)n * k, nameof(dw), n, k);
        if (m == 0 || n == 0 || k == 0)
        {
            return;
        }
        // A is an activation, not a weight: it is packed per call (O(M·K), against O(M·N·K) of arithmetic), one chunk of
        // WeightGradientRows rows at a time, and every tile of dW runs over that chunk before the next: the packed chunk
        // (64 × K floats) stays in L2 and the chunk of dC that the tiles read down its columns stays in L1, where one
        // pass over all M rows re-read both from L3 for every tile (86 GFLOP/s against 170 at M = 3200, N = 1024,
        // K = 256 here). Each dW element is still one FMA chain over the rows in order (a chunk ends by storing the
        // float32 accumulator that the next reloads), so the bits do not depend on the chunk.
        int chunk = Math.Min(m, WeightGradientRows);
        if (PanelLayout.PackedLength(chunk, k) > Array.MaxLength)
        {
            throw new ArgumentException($"a: [{m}, {k}]: rows of {k} columns are too long to pack.", nameof(a));
        }
        float[] packed = ArrayPool<float>.Shared.Rent((int)PanelLayout.PackedLength(chunk, k));
        try
        {
            for (int r0 = 0; r0 < m; r0 += chunk)
            {
                int rows = Math.Min(chunk, m - r0);
                PanelLayout.Pack(a[(r0 * lda)..], rows, k, lda, 1, packed);
                GemmDriver.Run(p, n, k, rows, ref Unsafe.Add(ref MemoryMarshal.GetReference(dc), (nint)r0 * lddc), 1, lddc,
                    ref packed[0], ref MemoryMarshal.GetReference(dw), k,
                    GemmInit.Accumulate, ref MemoryMarshal.GetReference(ReadOnlySpan<float>.Empty));
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(packed);
        }
    }

    /// <summary>Rows of dC and A per pass of <see cref="AccumulateWeightGradient(ReadOnlySpan{float}, int, ReadOnlySpan{float}, int, int, int, int, Span{float}, SimdPath?)"/> (measured best of 64–1024 here).</summary>
    private const int WeightGradientRows = 64;

    private static void Forward(ReadOnlySpan<float> a, int m, int lda, PackedMatrix w, Span<float> c, int ldc, bool accumulate, SimdPath? path)
    {
        ArgumentNullException.ThrowIfNull(w);
        SimdPath p = SimdPaths.Resolve(path);
        Check.Matrix(a, m, w.Columns, lda, nameof(a));
        Check.Matrix(c, m, w.Rows, ldc, nameof(c));
        Check.Disjoint(a, nameof(a), c, nameof(c));
        GemmInit init = accumulate ? GemmInit.Accumulate : w.HasBias ? GemmInit.Bias : GemmInit.Zero;
        GemmDriver.Run(p, m, w.Rows, w.Columns, ref MemoryMarshal.GetReference(a), lda, 1,
            ref MemoryMarshal.GetReference(w.ForwardPanels), ref MemoryMarshal.GetReference(c), ldc,
            init, ref MemoryMarshal.GetReference(w.PaddedBias));
    }

    private static void ClearMatrix(Span<float> span, int rows, int cols, int ld)
    {
        for (int r = 0; r < rows; r++)
        {
            span.Slice(r * ld, cols).Clear();
        }
    }
}
