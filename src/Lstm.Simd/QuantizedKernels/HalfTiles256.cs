using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Lstm.Simd.GemmKernels;

namespace Lstm.Simd.QuantizedKernels;

/// <summary>
/// Vector256 + FMA tiles over 16-bit panels: per output the FMA chain of the float32 tiles
/// (<see cref="MicroKernelsAvx2"/>), each half panel line (8 weights) widened in registers.
/// </summary>
internal static class HalfTiles256<TWiden>
    where TWiden : struct, IHalfWidening
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Init(GemmInit init, ref float cRow, ref float bias, nuint col) => init switch
    {
        GemmInit.Accumulate => Vector256.LoadUnsafe(ref cRow, col),
        GemmInit.Bias => Vector256.LoadUnsafe(ref bias, col),
        _ => Vector256<float>.Zero,
    };

    /// <summary>Four rows × 64 outputs, one 16-wide panel at a time (8 accumulators); each widened line feeds four rows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Rows4(ref float a, nint lda, int k, ref ushort b, nint panelStride, ref float c, nint ldc, GemmInit init, ref float bias)
    {
        ref float a1 = ref Unsafe.Add(ref a, lda);
        ref float a2 = ref Unsafe.Add(ref a, 2 * lda);
        ref float a3 = ref Unsafe.Add(ref a, 3 * lda);
        for (int panel = 0; panel < 4; panel++)
        {
            nuint col = (nuint)(panel * PanelLayout.PanelWidth);
            ref float cr0 = ref Unsafe.Add(ref c, col);
            ref float cr1 = ref Unsafe.Add(ref cr0, ldc);
            ref float cr2 = ref Unsafe.Add(ref cr0, 2 * ldc);
            ref float cr3 = ref Unsafe.Add(ref cr0, 3 * ldc);
            ref float biasP = ref Unsafe.Add(ref bias, init == GemmInit.Bias ? col : 0);
            Vector256<float> c00 = Init(init, ref cr0, ref biasP, 0), c01 = Init(init, ref cr0, ref biasP, 8);
            Vector256<float> c10 = Init(init, ref cr1, ref biasP, 0), c11 = Init(init, ref cr1, ref biasP, 8);
            Vector256<float> c20 = Init(init, ref cr2, ref biasP, 0), c21 = Init(init, ref cr2, ref biasP, 8);
            Vector256<float> c30 = Init(init, ref cr3, ref biasP, 0), c31 = Init(init, ref cr3, ref biasP, 8);
            ref ushort bk = ref Unsafe.Add(ref b, panel * panelStride);
            for (nint kk = 0; kk < k; kk++)
            {
                Vector256<float> b0 = TWiden.Widen(Vector128.LoadUnsafe(ref bk));
                Vector256<float> b1 = TWiden.Widen(Vector128.LoadUnsafe(ref bk, 8));
                Vector256<float> x = Vector256.Create(Unsafe.Add(ref a, kk));
                c00 = Fma.MultiplyAdd(x, b0, c00);
                c01 = Fma.MultiplyAdd(x, b1, c01);
                x = Vector256.Create(Unsafe.Add(ref a1, kk));
                c10 = Fma.MultiplyAdd(x, b0, c10);
                c11 = Fma.MultiplyAdd(x, b1, c11);
                x = Vector256.Create(Unsafe.Add(ref a2, kk));
                c20 = Fma.MultiplyAdd(x, b0, c20);
                c21 = Fma.MultiplyAdd(x, b1, c21);
                x = Vector256.Create(Unsafe.Add(ref a3, kk));
                c30 = Fma.MultiplyAdd(x, b0, c30);
                c31 = Fma.MultiplyAdd(x, b1, c31);
                bk = ref Unsafe.Add(ref bk, PanelLayout.PanelWidth);
            }
            c00.StoreUnsafe(ref cr0, 0);
            c01.StoreUnsafe(ref cr0, 8);
            c10.StoreUnsafe(ref cr1, 0);
            c11.StoreUnsafe(ref cr1, 8);
            c20.StoreUnsafe(ref cr2, 0);
            c21.StoreUnsafe(ref cr2, 8);
            c30.StoreUnsafe(ref cr3, 0);
            c31.StoreUnsafe(ref cr3, 8);
        }
    }

    /// <summary>One row × 64 outputs: 8 independent chains, so a GEMV streams its weights.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Row1x64(ref float a, int k, ref ushort b, nint panelStride, ref float c, GemmInit init, ref float bias)
    {
        Vector256<float> c0 = Init(init, ref c, ref bias, 0), c1 = Init(init, ref c, ref bias, 8), c2 = Init(init, ref c, ref bias, 16), c3 = Init(init, ref c, ref bias, 24);
        Vector256<float> c4 = Init(init, ref c, ref bias, 32), c5 = Init(init, ref c, ref bias, 40), c6 = Init(init, ref c, ref bias, 48), c7 = Init(init, ref c, ref bias, 56);
        ref ushort bk = ref b;
        for (nint kk = 0; kk < k; kk++)
        {
            Vector256<float> x = Vector256.Create(Unsafe.Add(ref a, kk));
            c0 = Fma.MultiplyAdd(x, TWiden.Widen(Vector128.LoadUnsafe(ref bk)), c0);
            c1 = Fma.MultiplyAdd(x, TWiden.Widen(Vector128.LoadUnsafe(ref bk, 8)), c1);
            c2 = Fma.MultiplyAdd(x, TWiden.Widen(Vector128.LoadUnsafe(ref bk, (nuint)panelStride)), c2);
            c3 = Fma.MultiplyAdd(x, TWiden.Widen(Vector128.LoadUnsafe(ref bk, (nuint)panelStride + 8)), c3);
            c4 = Fma.MultiplyAdd(x, TWiden.Widen(Vector128.LoadUnsafe(ref bk, (nuint)(2 * panelStride))), c4);
            c5 = Fma.MultiplyAdd(x, TWiden.Widen(Vector128.LoadUnsafe(ref bk, (nuint)(2 * panelStride) + 8)), c5);
            c6 = Fma.MultiplyAdd(x, TWiden.Widen(Vector128.LoadUnsafe(ref bk, (nuint)(3 * panelStride))), c6);
            c7 = Fma.MultiplyAdd(x, TWiden.Widen(Vector128.LoadUnsafe(ref bk, (nuint)(3 * panelStride) + 8)), c7);
            bk = ref Unsafe.Add(ref bk, PanelLayout.PanelWidth);
        }
        c0.StoreUnsafe(ref c, 0);
        c1.StoreUnsafe(ref c, 8);
        c2.StoreUnsafe(ref c, 16);
        c3.StoreUnsafe(ref c, 24);
        c4.StoreUnsafe(ref c, 32);
        c5.StoreUnsafe(ref c, 40);
        c6.StoreUnsafe(ref c, 48);
        c7.StoreUnsafe(ref c, 56);
    }
}
