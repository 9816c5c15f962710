using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Lstm.Simd.GemmKernels;

namespace Lstm.Simd.QuantizedKernels;

/// <summary>
/// C[M×N] = init + A[M×K]·Wᵀ with W in 16-bit panels: per output one FMA chain over k in order, starting from the
/// bias, C or 0, exactly as <see cref="GemmDriver"/> does for float32 panels, so the result equals
/// <see cref="Gemm"/> on the widened weights bit for bit. The same blocking as <see cref="GemmDriver"/>: rows in
/// chunks, groups of 64 outputs (two at a time for single rows), a zero-padded copy of C for the last group.
/// Batches of <see cref="WidenOnceRows"/> rows or more widen each group once into float32 panels and run the float32
/// tiles on them, instead of widening every weight once per 4 rows. Unchecked: <see cref="QuantizedGemm"/> validates.
/// </summary>
internal static class HalfDriver
{
    private const int RowBlock = 4;
    private const int MaxBlockWidth = EdgeBlock.Width;
    private const int RowChunk = 128;

    /// <summary>From this many rows on, widening a group once and running the float32 tiles costs less (see README).</summary>
    public const int WidenOnceRows = 16;

    [ThreadStatic]
    private static AlignedArray<float>? widened;

    public static void Run(SimdPath path, ReadOnlySpan<float> a, int m, int lda, PackedHalfMatrix w, Span<float> c, int ldc, bool accumulate)
    {
        if (m == 0 || w.Rows == 0)
        {
            return;
        }
        GemmInit init = accumulate ? GemmInit.Accumulate : w.HasBias ? GemmInit.Bias : GemmInit.Zero;
        bool fp16 = w.Format == WeightFormat.Float16;
        switch (path)
        {
            case SimdPath.Avx512 or SimdPath.Avx2 or SimdPath.Vector128 when m >= WidenOnceRows:
                if (fp16)
                {
                    RunWidenedOnce<Float16Widening>(path, a, m, lda, w, c, ldc, init);
                }
                else
                {
                    RunWidenedOnce<BFloat16Widening>(path, a, m, lda, w, c, ldc, init);
                }
                break;
            case SimdPath.Avx512 when fp16:
                Run<Tiles512<Float16Widening>>(a, m, lda, w, c, ldc, init);
                break;
            case SimdPath.Avx512:
                Run<Tiles512<BFloat16Widening>>(a, m, lda, w, c, ldc, init);
                break;
            case SimdPath.Avx2 when fp16:
                Run<Tiles256<Float16Widening>>(a, m, lda, w, c, ldc, init);
                break;
            case SimdPath.Avx2:
                Run<Tiles256<BFloat16Widening>>(a, m, lda, w, c, ldc, init);
                break;
            case SimdPath.Vector128 when fp16:
                Run<Tiles128<Float16Widening>>(a, m, lda, w, c, ldc, init);
                break;
            case SimdPath.Vector128:
                Run<Tiles128<BFloat16Widening>>(a, m, lda, w, c, ldc, init);
                break;
            default:
                HalfScalar.Run(a, m, lda, w, c, ldc, init);
                break;
        }
    }

    private static void Run<TTiles>(ReadOnlySpan<float> a, int m, int lda, PackedHalfMatrix w, Span<float> c, int ldc, GemmInit init)
        where TTiles : struct, IHalfTiles
    {
        int n = w.Rows, k = w.Columns;
        int groups = PanelLayout.PaddedColumns(n) / PanelLayout.GroupWidth;
        nint panelStride = (nint)k * PanelLayout.PanelWidth;
        Span<float> edge = stackalloc float[RowBlock * MaxBlockWidth];
        ref float a0 = ref MemoryMarshal.GetReference(a);
        ref float c0 = ref MemoryMarshal.GetReference(c);
        ref ushort b = ref MemoryMarshal.GetReference(w.Panels);
        ref float bias = ref MemoryMarshal.GetReference(w.PaddedBias);

        for (int i0 = 0; i0 < m; i0 += RowChunk)
        {
            int i1 = Math.Min(m, i0 + RowChunk);
            for (int g = 0; g < groups;)
            {
                int span = g + 2 <= groups ? 2 : 1;
                int col0 = g * PanelLayout.GroupWidth;
                int width = span * PanelLayout.GroupWidth;
                int validCols = Math.Min(width, n - col0);
                ref ushort bg = ref Unsafe.Add(ref b, (nint)g * 4 * panelStride);
                ref float biasg = ref Unsafe.Add(ref bias, init == GemmInit.Bias ? col0 : 0);
                int i = i0;
                for (; i + RowBlock <= i1; i += RowBlock)
                {
                    ref float ai = ref Unsafe.Add(ref a0, (nint)i * lda);
                    ref float ci = ref Unsafe.Add(ref c0, ((nint)i * ldc) + col0);
                    for (int s = 0; s < span; s++)
                    {
                        int sCols = Math.Clamp(validCols - (s * PanelLayout.GroupWidth), 0, PanelLayout.GroupWidth);
                        ref ushort bs = ref Unsafe.Add(ref bg, s * 4 * panelStride);
                        ref float biass = ref Unsafe.Add(ref biasg, init == GemmInit.Bias ? s * PanelLayout.GroupWidth : 0);
                        ref float cs = ref Unsafe.Add(ref ci, s * PanelLayout.GroupWidth);
                        if (sCols == PanelLayout.GroupWidth)
                        {
                            TTiles.Rows4(ref ai, lda, k, ref bs, panelStride, ref cs, ldc, init, ref biass);
                        }
                        else
                        {
                            EdgeBlock.Load(edge, RowBlock, sCols, ref cs, ldc, init);
                            TTiles.Rows4(ref ai, lda, k, ref bs, panelStride, ref edge[0], MaxBlockWidth, init, ref biass);
                            EdgeBlock.Store(edge, RowBlock, sCols, ref cs, ldc);
                        }
                    }
                }
                for (; i < i1; i++)
                {
                    ref float ai = ref Unsafe.Add(ref a0, (nint)i * lda);
                    ref float ci = ref Unsafe.Add(ref c0, ((nint)i * ldc) + col0);
                    if (validCols == width)
                    {
                        TTiles.Row1(span, ref ai, k, ref bg, panelStride, ref ci, init, ref biasg);
                    }
                    else
                    {
                        EdgeBlock.Load(edge, 1, validCols, ref ci, ldc, init);
                        TTiles.Row1(span, ref ai, k, ref bg, panelStride, ref edge[0], init, ref biasg);
                        EdgeBlock.Store(edge, 1, validCols, ref ci, ldc);
                    }
                }
                g += span;
            }
        }
    }

    /// <summary>Per group of 64 outputs: widen its four panels into float32 panels (same layout), then the float32 GEMM.</summary>
    private static void RunWidenedOnce<TWiden>(SimdPath path, ReadOnlySpan<float> a, int m, int lda, PackedHalfMatrix w, Span<float> c, int ldc, GemmInit init)
        where TWiden : struct, IHalfWidening
    {
        int n = w.Rows, k = w.Columns;
        int groupLength = PanelLayout.GroupWidth * k;
        if (groupLength == 0)
        {
            HalfScalar.Run(a, m, lda, w, c, ldc, init); // K = 0: only the initial values are written
            return;
        }
        // A pinned, 64-byte aligned buffer per thread (as the float32 panels are: a misaligned one splits every
        // 64-byte load across two cache lines), grown when a larger K needs it; steady state allocates nothing.
        if (widened is null || widened.Length < groupLength)
        {
            widened = new AlignedArray<float>(groupLength);
        }
        ref float panels = ref MemoryMarshal.GetReference(widened.Span);
        ref ushort b = ref MemoryMarshal.GetReference(w.Panels);
        ref float bias = ref MemoryMarshal.GetReference(w.PaddedBias);
        ref float c0 = ref MemoryMarshal.GetReference(c);
        for (int col0 = 0; col0 < n; col0 += PanelLayout.GroupWidth)
        {
            Widen<TWiden>(path, ref Unsafe.Add(ref b, (nint)col0 * k), ref panels, groupLength);
            GemmDriver.Run(path, m, Math.Min(PanelLayout.GroupWidth, n - col0), k, ref MemoryMarshal.GetReference(a), lda, 1,
                ref panels, ref Unsafe.Add(ref c0, col0), ldc, init, ref Unsafe.Add(ref bias, init == GemmInit.Bias ? col0 : 0));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Widen<TWiden>(SimdPath path, ref ushort source, ref float destination, int count)
        where TWiden : struct, IHalfWidening
    {
        switch (path)
        {
            case SimdPath.Avx512:
                for (nint i = 0; i < count; i += 16)
                {
                    TWiden.Widen(Vector256.LoadUnsafe(ref source, (nuint)i)).StoreUnsafe(ref destination, (nuint)i);
                }
                break;
            case SimdPath.Avx2:
                for (nint i = 0; i < count; i += 8)
                {
                    TWiden.Widen(Vector128.LoadUnsafe(ref source, (nuint)i)).StoreUnsafe(ref destination, (nuint)i);
                }
                break;
            default:
                // Vector128: no x86 instruction here, so that ARM64 runs it too.
                for (nint i = 0; i < count; i += 8)
                {
                    Vector128<ushort> line = Vector128.LoadUnsafe(ref source, (nuint)i);
                    TWiden.WidenLower(line).StoreUnsafe(ref destination, (nuint)i);
                    TWiden.WidenUpper(line).StoreUnsafe(ref destination, (nuint)i + 4);
                }
                break;
        }
    }

    /// <summary>The tiles of one vector width and one widening, so the driver is compiled once per combination.</summary>
    private interface IHalfTiles
    {
        static abstract void Rows4(ref float a, nint lda, int k, ref ushort b, nint panelStride, ref float c, nint ldc, GemmInit init, ref float bias);

        /// <summary>One row × <paramref name="span"/> groups of 64 outputs.</summary>
        static abstract void Row1(int span, ref float a, int k, ref ushort b, nint panelStride, ref float c, GemmInit init, ref float bias);
    }

    private readonly struct Tiles512<TWiden> : IHalfTiles
        where TWiden : struct, IHalfWidening
    {
        public static void Rows4(ref float a, nint lda, int k, ref ushort b, nint panelStride, ref float c, nint ldc, GemmInit init, ref float bias) =>
            HalfTiles512<TWiden>.Rows4(ref a, lda, k, ref b, panelStride, ref c, ldc, init, ref bias);

        public static void Row1(int span, ref float a, int k, ref ushort b, nint panelStride, ref float c, GemmInit init, ref float bias)
        {
            if (span == 2)
            {
                HalfTiles512<TWiden>.Row1x128(ref a, k, ref b, panelStride, ref c, init, ref bias);
            }
            else
            {
                HalfTiles512<TWiden>.Row1x64(ref a, k, ref b, panelStride, ref c, init, ref bias);
            }
        }
    }

    private readonly struct Tiles128<TWiden> : IHalfTiles
        where TWiden : struct, IHalfWidening
    {
        public static void Rows4(ref float a, nint lda, int k, ref ushort b, nint panelStride, ref float c, nint ldc, GemmInit init, ref float bias) =>
            HalfTiles128<TWiden>.Rows4(ref a, lda, k, ref b, panelStride, ref c, ldc, init, ref bias);

        public static void Row1(int span, ref float a, int k, ref ushort b, nint panelStride, ref float c, GemmInit init, ref float bias)
        {
            // Each group of 64 outputs is four panels; a call takes two of them.
            for (int half = 0; half < 2 * span; half++)
            {
                nint col = half * (PanelLayout.GroupWidth / 2);
                HalfTiles128<TWiden>.Row1x32(ref a, k, ref Unsafe.Add(ref b, 2 * half * panelStride), panelStride, ref Unsafe.Add(ref c, col),
                    init, ref Unsafe.Add(ref bias, init == GemmInit.Bias ? col : 0));
            }
        }
    }

    private readonly struct Tiles256<TWiden> : IHalfTiles
        where TWiden : struct, IHalfWidening
    {
        public static void Rows4(ref float a, nint lda, int k, ref ushort b, nint panelStride, ref float c, nint ldc, GemmInit init, ref float bias) =>
            HalfTiles256<TWiden>.Rows4(ref a, lda, k, ref b, panelStride, ref c, ldc, init, ref bias);

        public static void Row1(int span, ref float a, int k, ref ushort b, nint panelStride, ref float c, GemmInit init, ref float bias)
        {
            for (int s = 0; s < span; s++)
            {
                nint col = s * PanelLayout.GroupWidth;
                HalfTiles256<TWiden>.Row1x64(ref a, k, ref Unsafe.Add(ref b, 4 * s * panelStride), panelStride, ref Unsafe.Add(ref c, col),
                    init, ref Unsafe.Add(ref bias, init == GemmInit.Bias ? col : 0));
            }
        }
    }
}
