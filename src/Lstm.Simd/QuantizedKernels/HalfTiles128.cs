using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Lstm.Simd.GemmKernels;
using Lstm.Simd.Vectors;

namespace Lstm.Simd.QuantizedKernels;

/// <summary>
/// Vector128 tiles over 16-bit panels, in the cross-platform API (NEON, SSE + FMA3): per output the FMA chain of the
/// float32 tiles (<see cref="MicroKernelsVector128"/>); each load of eight weights is widened into two vectors.
/// 8 accumulators, as those tiles have.
/// </summary>
internal static class HalfTiles128<TWiden>
    where TWiden : struct, IHalfWidening
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Init(GemmInit init, ref float cRow, ref float bias, nuint col) => init switch
    {
        GemmInit.Accumulate => Vector128.LoadUnsafe(ref cRow, col),
        GemmInit.Bias => Vector128.LoadUnsafe(ref bias, col),
        _ => Vector128<float>.Zero,
    };

    /// <summary>Four rows × 64 outputs, eight outputs (half a panel) at a time; each widened line feeds four rows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Rows4(ref float a, nint lda, int k, ref ushort b, nint panelStride, ref float c, nint ldc, GemmInit init, ref float bias)
    {
        ref float a1 = ref Unsafe.Add(ref a, lda);
        ref float a2 = ref Unsafe.Add(ref a, 2 * lda);
        ref float a3 = ref Unsafe.Add(ref a, 3 * lda);
        for (int part = 0; part < PanelLayout.GroupWidth; part += 8)
        {
            nuint col = (nuint)part;
            ref float cr0 = ref Unsafe.Add(ref c, col);
            ref float cr1 = ref Unsafe.Add(ref cr0, ldc);
            ref float cr2 = ref Unsafe.Add(ref cr0, 2 * ldc);
            ref float cr3 = ref Unsafe.Add(ref cr0, 3 * ldc);
            ref float biasP = ref Unsafe.Add(ref bias, init == GemmInit.Bias ? col : 0);
            Vector128<float> c00 = Init(init, ref cr0, ref biasP, 0), c01 = Init(init, ref cr0, ref biasP, 4);
            Vector128<float> c10 = Init(init, ref cr1, ref biasP, 0), c11 = Init(init, ref cr1, ref biasP, 4);
            Vector128<float> c20 = Init(init, ref cr2, ref biasP, 0), c21 = Init(init, ref cr2, ref biasP, 4);
            Vector128<float> c30 = Init(init, ref cr3, ref biasP, 0), c31 = Init(init, ref cr3, ref biasP, 4);
            ref ushort bk = ref Unsafe.Add(ref b, (part / PanelLayout.PanelWidth * panelStride) + (part % PanelLayout.PanelWidth));
            for (nint kk = 0; kk < k; kk++)
            {
                Vector128<ushort> line = Vector128.LoadUnsafe(ref bk);
                Vector128<float> b0 = TWiden.WidenLower(line), b1 = TWiden.WidenUpper(line);
                Vector128<float> x = Vector128.Create(Unsafe.Add(ref a, kk));
                c00 = V128.FusedMultiplyAdd(x, b0, c00);
                c01 = V128.FusedMultiplyAdd(x, b1, c01);
                x = Vector128.Create(Unsafe.Add(ref a1, kk));
                c10 = V128.FusedMultiplyAdd(x, b0, c10);
                c11 = V128.FusedMultiplyAdd(x, b1, c11);
                x = Vector128.Create(Unsafe.Add(ref a2, kk));
                c20 = V128.FusedMultiplyAdd(x, b0, c20);
                c21 = V128.FusedMultiplyAdd(x, b1, c21);
                x = Vector128.Create(Unsafe.Add(ref a3, kk));
                c30 = V128.FusedMultiplyAdd(x, b0, c30);
                c31 = V128.FusedMultiplyAdd(x, b1, c31);
                bk = ref Unsafe.Add(ref bk, PanelLayout.PanelWidth);
            }
            c00.StoreUnsafe(ref cr0, 0);
            c01.StoreUnsafe(ref cr0, 4);
            c10.StoreUnsafe(ref cr1, 0);
            c11.StoreUnsafe(ref cr1, 4);
            c20.StoreUnsafe(ref cr2, 0);
            c21.StoreUnsafe(ref cr2, 4);
            c30.StoreUnsafe(ref cr3, 0);
            c31.StoreUnsafe(ref cr3, 4);
        }
    }

    /// <summary>One row × 32 outputs (two panels): 8 independent chains, so a GEMV streams its weights.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Row1x32(ref float a, int k, ref ushort b, nint panelStride, ref float c, GemmInit init, ref float bias)
    {
        Vector128<float> c0 = Init(init, ref c, ref bias, 0), c1 = Init(init, ref c, ref bias, 4), c2 = Init(init, ref c, ref bias, 8), c3 = Init(init, ref c, ref bias, 12);
        Vector128<float> c4 = Init(init, ref c, ref bias, 16), c5 = Init(init, ref c, ref bias, 20), c6 = Init(init, ref c, ref bias, 24), c7 = Init(init, ref c, ref bias, 28);
        ref ushort bk = ref b;
        for (nint kk = 0; kk < k; kk++)
        {
            Vector128<float> x = Vector128.Create(Unsafe.Add(ref a, kk));
            Vector128<ushort> l0 = Vector128.LoadUnsafe(ref bk), l1 = Vector128.LoadUnsafe(ref bk, 8);
            Vector128<ushort> l2 = Vector128.LoadUnsafe(ref bk, (nuint)panelStride), l3 = Vector128.LoadUnsafe(ref bk, (nuint)panelStride + 8);
            c0 = V128.FusedMultiplyAdd(x, TWiden.WidenLower(l0), c0);
            c1 = V128.FusedMultiplyAdd(x, TWiden.WidenUpper(l0), c1);
            c2 = V128.FusedMultiplyAdd(x, TWiden.WidenLower(l1), c2);
            c3 = V128.FusedMultiplyAdd(x, TWiden.WidenUpper(l1), c3);
            c4 = V128.FusedMultiplyAdd(x, TWiden.WidenLower(l2), c4);
            c5 = V128.FusedMultiplyAdd(x, TWiden.WidenUpper(l2), c5);
            c6 = V128.FusedMultiplyAdd(x, TWiden.WidenLower(l3), c6);
            c7 = V128.FusedMultiplyAdd(x, TWiden.WidenUpper(l3), c7);
            bk = ref Unsafe.Add(ref bk, PanelLayout.PanelWidth);
        }
        c0.StoreUnsafe(ref c, 0);
        c1.StoreUnsafe(ref c, 4);
        c2.StoreUnsafe(ref c, 8);
        c3.StoreUnsafe(ref c, 12);
        c4.StoreUnsafe(ref c, 16);
        c5.StoreUnsafe(ref c, 20);
        c6.StoreUnsafe(ref c, 24);
        c7.StoreUnsafe(ref c, 28);
    }
}
