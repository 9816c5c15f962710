using System.Runtime.CompilerServices;

namespace Lstm.Simd.GemmKernels;

/// <summary>What a GEMM tile starts its accumulators from.</summary>
internal enum GemmInit
{
    Zero,
    Bias,
    Accumulate,
}

/// <summary>
/// C[M×P] = init + A[M×Q]·B[Q×P], B in panels (<see cref="PanelLayout"/>), A read at a + r·rsA + k·csA (so Aᵀ is just
/// other strides). Loops over column blocks, then rows; owns the edge block, which runs on a zero-padded copy
/// of C so the tiles never mask. Unchecked: the public entries in <see cref="Simd.Gemm"/> validate.
/// </summary>
internal static class GemmDriver
{
    private const int RowBlock = 4;
    private const int MaxBlockWidth = EdgeBlock.Width;
    private const int RowChunk = 128;

    // The Vector128 tiles' widths: 8 accumulators each, so a group of 64 columns takes 8 calls of 4 rows or 2 of 1.
    private const int Vector128Tile4Width = 8;
    private const int Vector128Row1Width = 32;

    // No zeroing of the edge buffer on every call (it is cleared by EdgeBlock.Load before each use): this runs once per
    // GEMM, so per streaming step.
    [SkipLocalsInit]
    public static void Run(SimdPath path, int m, int p, int q, ref float a, nint rsA, nint csA, ref float b, ref float c, nint ldc, GemmInit init, ref float bias)
    {
        if (m == 0 || p == 0)
        {
            return;
        }
        int groups = PanelLayout.PaddedColumns(p) / PanelLayout.GroupWidth;
        nint panelStride = (nint)q * PanelLayout.PanelWidth;
        Span<float> edge = stackalloc float[RowBlock * MaxBlockWidth];
        var block = new Block(path, q, rsA, csA, panelStride, init);

        // Rows in chunks whose A stays in L2 while every column block passes over it; a block of B is reused by
        // every row of the chunk. (Without this a tall A, such as all T·B rows of an input projection, is re-read
        // from L3 once per column block.)
        for (int i0 = 0; i0 < m; i0 += RowChunk)
        {
            int i1 = Math.Min(m, i0 + RowChunk);
            for (int g = 0; g < groups;)
            {
                // Single rows (M = 1 above all) take two groups at once where they can: more independent FMA chains.
                int span = g + 2 <= groups ? 2 : 1;
                int col0 = g * PanelLayout.GroupWidth;
                int width = span * PanelLayout.GroupWidth;
                ref float bg = ref Unsafe.Add(ref b, (nint)g * PanelLayout.GroupWidth / PanelLayout.PanelWidth * panelStride);
                ref float biasg = ref Unsafe.Add(ref bias, init == GemmInit.Bias ? col0 : 0);
                int validCols = Math.Min(width, p - col0);

                int i = i0;
                for (; i + RowBlock <= i1; i += RowBlock)
                {
                    ref float ai = ref Unsafe.Add(ref a, i * rsA);
                    ref float ci = ref Unsafe.Add(ref c, (i * ldc) + col0);
                    if (validCols == width)
                    {
                        block.Rows4(span, ref ai, ref bg, ref ci, ldc, ref biasg);
                    }
                    else
                    {
                        EdgeBlock.Load(edge, RowBlock, validCols, ref ci, ldc, init);
                        block.Rows4(span, ref ai, ref bg, ref edge[0], MaxBlockWidth, ref biasg);
                        EdgeBlock.Store(edge, RowBlock, validCols, ref ci, ldc);
                    }
                }
                for (; i < i1; i++)
                {
                    ref float ai = ref Unsafe.Add(ref a, i * rsA);
                    ref float ci = ref Unsafe.Add(ref c, (i * ldc) + col0);
                    if (validCols == width)
                    {
                        block.Row1(span, ref ai, ref bg, ref ci, ref biasg);
                    }
                    else
                    {
                        EdgeBlock.Load(edge, 1, validCols, ref ci, ldc, init);
                        block.Row1(span, ref ai, ref bg, ref edge[0], ref biasg);
                        EdgeBlock.Store(edge, 1, validCols, ref ci, ldc);
                    }
                }
                g += span;
            }
        }
    }

    /// <summary>One block of columns (64 per group) for 4 rows or 1 row, on the chosen path.</summary>
    private readonly struct Block(SimdPath path, int q, nint rsA, nint csA, nint panelStride, GemmInit init)
    {
        public void Rows4(int span, ref float a, ref float b, ref float c, nint ldc, ref float bias)
        {
            for (int s = 0; s < span; s++)
            {
                nint col = s * PanelLayout.GroupWidth;
                ref float bs = ref Unsafe.Add(ref b, s * 4 * panelStride);
                ref float cs = ref Unsafe.Add(ref c, col);
                ref float biass = ref Unsafe.Add(ref bias, init == GemmInit.Bias ? col : 0);
                switch (path)
                {
                    case SimdPath.Avx512:
                        MicroKernelsAvx512.Tile4x64(ref a, rsA, csA, q, ref bs, panelStride, ref cs, ldc, init, ref biass);
                        break;
                    case SimdPath.Avx2:
                        for (int panel = 0; panel < 4; panel++)
                        {
                            nint pc = panel * PanelLayout.PanelWidth;
                            MicroKernelsAvx2.Tile4x16(ref a, rsA, csA, q, ref Unsafe.Add(ref bs, panel * panelStride), panelStride, ref Unsafe.Add(ref cs, pc), ldc, init, ref Unsafe.Add(ref biass, init == GemmInit.Bias ? pc : 0));
                        }
                        break;
                    case SimdPath.Vector128:
                        for (nint part = 0; part < PanelLayout.GroupWidth; part += Vector128Tile4Width)
                        {
                            nint pc = (part / PanelLayout.PanelWidth * panelStride) + (part % PanelLayout.PanelWidth);
                            MicroKernelsVector128.Tile4x8(ref a, rsA, csA, q, ref Unsafe.Add(ref bs, pc), panelStride, ref Unsafe.Add(ref cs, part), ldc, init, ref Unsafe.Add(ref biass, init == GemmInit.Bias ? part : 0));
                        }
                        break;
                    default:
                        MicroKernelScalar.Tile(RowBlock, PanelLayout.GroupWidth, ref a, rsA, csA, q, ref bs, panelStride, ref cs, ldc, init, ref biass);
                        break;
                }
            }
        }

        public void Row1(int span, ref float a, ref float b, ref float c, ref float bias)
        {
            if (path == SimdPath.Avx512 && span == 2)
            {
                MicroKernelsAvx512.Tile1x128(ref a, rsA, csA, q, ref b, panelStride, ref c, 0, init, ref bias);
                return;
            }
            for (int s = 0; s < span; s++)
            {
                nint col = s * PanelLayout.GroupWidth;
                ref float bs = ref Unsafe.Add(ref b, s * 4 * panelStride);
                ref float cs = ref Unsafe.Add(ref c, col);
                ref float biass = ref Unsafe.Add(ref bias, init == GemmInit.Bias ? col : 0);
                switch (path)
                {
                    case SimdPath.Avx512:
                        MicroKernelsAvx512.Tile1x64(ref a, rsA, csA, q, ref bs, panelStride, ref cs, 0, init, ref biass);
                        break;
                    case SimdPath.Avx2:
                        MicroKernelsAvx2.Tile1x64(ref a, rsA, csA, q, ref bs, panelStride, ref cs, 0, init, ref biass);
                        break;
                    case SimdPath.Vector128:
                        for (nint part = 0; part < PanelLayout.GroupWidth; part += Vector128Row1Width)
                        {
                            nint pc = part / PanelLayout.PanelWidth * panelStride;
                            MicroKernelsVector128.Tile1x32(ref a, rsA, csA, q, ref Unsafe.Add(ref bs, pc), panelStride, ref Unsafe.Add(ref cs, part), 0, init, ref Unsafe.Add(ref biass, init == GemmInit.Bias ? part : 0));
                        }
                        break;
                    default:
                        MicroKernelScalar.Tile(1, PanelLayout.GroupWidth, ref a, rsA, csA, q, ref bs, panelStride, ref cs, 0, init, ref biass);
                        break;
                }
            }
        }
    }
}
