using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Lstm.Simd.QuantizedKernels;

/// <summary>
/// C[M×N] (+)= dequantize(quantize(A)·Qᵀ): rows of A are quantized a chunk at a time into scratch, then every group
/// of 64 output rows is computed as exact int32 sums by the chosen integer tile and turned into floats by the
/// epilogue (the same float operations on every kernel). Unchecked: <see cref="QuantizedGemm"/> validates.
/// </summary>
internal static class Int8Driver
{
    private const int RowBlock = 4;
    private const int RowChunk = 64;
    private const int StackScratchBytes = 16 * 1024;

    // No zeroing of the stack scratch on every call (a streaming step calls this twice per layer): the quantizer
    // writes every byte of each row it uses, padding included, and the tiles write every sum the epilogue reads.
    [SkipLocalsInit]
    public static void Run(Int8Kernel kernel, ReadOnlySpan<float> a, int m, int lda, PackedInt8Matrix w, Span<float> c, int ldc, bool accumulate)
    {
        int n = w.Rows, k = w.Columns;
        if (m == 0 || n == 0)
        {
            return;
        }
        int paddedK = Int8Layout.PaddedK(k);
        int chunk = Math.Min(m, RowChunk);
        int scratchBytes = chunk * paddedK;
        sbyte[]? rented = null;
        Span<sbyte> qa = scratchBytes <= StackScratchBytes
            ? stackalloc sbyte[scratchBytes]
            : (rented = ArrayPool<sbyte>.Shared.Rent(scratchBytes));
        Span<float> aScales = stackalloc float[RowChunk];
        Span<int> acc = stackalloc int[RowBlock * Int8Layout.GroupWidth];
        try
        {
            ref float a0 = ref MemoryMarshal.GetReference(a);
            ref float c0 = ref MemoryMarshal.GetReference(c);
            for (int i0 = 0; i0 < m; i0 += RowChunk)
            {
                int rows = Math.Min(RowChunk, m - i0);
                for (int r = 0; r < rows; r++)
                {
                    aScales[r] = Int8Kernels.QuantizeRow(kernel, ref Unsafe.Add(ref a0, (nint)(i0 + r) * lda), k, qa.Slice(r * paddedK, paddedK));
                }
                RunChunk(kernel, qa, aScales, rows, w, ref Unsafe.Add(ref c0, (nint)i0 * ldc), ldc, accumulate, acc);
            }
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<sbyte>.Shared.Return(rented);
            }
        }
    }

    private static void RunChunk(Int8Kernel kernel, Span<sbyte> qa, ReadOnlySpan<float> aScales, int rows, PackedInt8Matrix w, ref float c, nint ldc, bool accumulate, Span<int> acc)
    {
        int n = w.Rows, k = w.Columns;
        int paddedK = Int8Layout.PaddedK(k);
        int kGroups = paddedK / Int8Layout.KGroup;
        nint panelStride = Int8Layout.PanelStride(k);
        ref sbyte panels = ref MemoryMarshal.GetReference(w.Panels);
        ref float scales = ref MemoryMarshal.GetReference(w.PaddedScales);
        ref int sums = ref MemoryMarshal.GetReference(w.PaddedRowSums);
        ref float bias = ref MemoryMarshal.GetReference(w.PaddedBias);
        bool useBias = w.HasBias;
        for (int col0 = 0; col0 < n; col0 += Int8Layout.GroupWidth)
        {
            ref sbyte wg = ref Unsafe.Add(ref panels, col0 / Int8Layout.PanelWidth * panelStride);
            int cols = Math.Min(Int8Layout.GroupWidth, n - col0);
            for (int i = 0; i < rows; i += RowBlock)
            {
                int block = Math.Min(RowBlock, rows - i);
                ref sbyte qi = ref Unsafe.Add(ref MemoryMarshal.GetReference(qa), i * paddedK);
                Int8Kernels.Tile(kernel, block, ref qi, paddedK, kGroups, ref wg, panelStride, ref Unsafe.Add(ref sums, col0), acc);
                Int8Kernels.Epilogue(kernel, block, cols, acc, aScales.Slice(i, block), ref Unsafe.Add(ref scales, col0),
                    ref Unsafe.Add(ref bias, useBias ? col0 : 0), useBias, ref Unsafe.Add(ref c, (i * ldc) + col0), ldc, accumulate);
            }
        }
    }
}
