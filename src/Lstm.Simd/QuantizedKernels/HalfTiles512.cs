using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Lstm.Simd.GemmKernels;

namespace Lstm.Simd.QuantizedKernels;

/// <summary>
/// Vector512 tiles over 16-bit panels (16 weights = 32 bytes per panel line): per output the FMA chain of the
/// float32 tiles (<see cref="MicroKernelsAvx512"/>), with each weight line widened in registers.
/// </summary>
internal static class HalfTiles512<TWiden>
    where TWiden : struct, IHalfWidening
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Init(GemmInit init, ref float cRow, ref float bias, nuint col) => init switch
    {
        GemmInit.Accumulate => Vector512.LoadUnsafe(ref cRow, col),
        GemmInit.Bias => Vector512.LoadUnsafe(ref bias, col),
        _ => Vector512<float>.Zero,
    };

    /// <summary>Four rows × 64 outputs: 16 accumulators; each widened weight line feeds four rows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Rows4(ref float a, nint lda, int k, ref ushort b, nint panelStride, ref float c, nint ldc, GemmInit init, ref float bias)
    {
        ref float cr1 = ref Unsafe.Add(ref c, ldc);
        ref float cr2 = ref Unsafe.Add(ref c, 2 * ldc);
        ref float cr3 = ref Unsafe.Add(ref c, 3 * ldc);
        Vector512<float> c00 = Init(init, ref c, ref bias, 0), c01 = Init(init, ref c, ref bias, 16), c02 = Init(init, ref c, ref bias, 32), c03 = Init(init, ref c, ref bias, 48);
        Vector512<float> c10 = Init(init, ref cr1, ref bias, 0), c11 = Init(init, ref cr1, ref bias, 16), c12 = Init(init, ref cr1, ref bias, 32), c13 = Init(init, ref cr1, ref bias, 48);
        Vector512<float> c20 = Init(init, ref cr2, ref bias, 0), c21 = Init(init, ref cr2, ref bias, 16), c22 = Init(init, ref cr2, ref bias, 32), c23 = Init(init, ref cr2, ref bias, 48);
        Vector512<float> c30 = Init(init, ref cr3, ref bias, 0), c31 = Init(init, ref cr3, ref bias, 16), c32 = Init(init, ref cr3, ref bias, 32), c33 = Init(init, ref cr3, ref bias, 48);
        ref float a1 = ref Unsafe.Add(ref a, lda);
        ref float a2 = ref Unsafe.Add(ref a, 2 * lda);
        ref float a3 = ref Unsafe.Add(ref a, 3 * lda);
        ref ushort bk = ref b;
        for (nint kk = 0; kk < k; kk++)
        {
            Vector512<float> b0 = TWiden.Widen(Vector256.LoadUnsafe(ref bk));
            Vector512<float> b1 = TWiden.Widen(Vector256.LoadUnsafe(ref bk, (nuint)panelStride));
            Vector512<float> b2 = TWiden.Widen(Vector256.LoadUnsafe(ref bk, (nuint)(2 * panelStride)));
            Vector512<float> b3 = TWiden.Widen(Vector256.LoadUnsafe(ref bk, (nuint)(3 * panelStride)));
            Vector512<float> x = Vector512.Create(Unsafe.Add(ref a, kk));
            c00 = Avx512F.FusedMultiplyAdd(x, b0, c00);
            c01 = Avx512F.FusedMultiplyAdd(x, b1, c01);
            c02 = Avx512F.FusedMultiplyAdd(x, b2, c02);
            c03 = Avx512F.FusedMultiplyAdd(x, b3, c03);
            x = Vector512.Create(Unsafe.Add(ref a1, kk));
            c10 = Avx512F.FusedMultiplyAdd(x, b0, c10);
            c11 = Avx512F.FusedMultiplyAdd(x, b1, c11);
            c12 = Avx512F.FusedMultiplyAdd(x, b2, c12);
            c13 = Avx512F.FusedMultiplyAdd(x, b3, c13);
            x = Vector512.Create(Unsafe.Add(ref a2, kk));
            c20 = Avx512F.FusedMultiplyAdd(x, b0, c20);
            c21 = Avx512F.FusedMultiplyAdd(x, b1, c21);
            c22 = Avx512F.FusedMultiplyAdd(x, b2, c22);
            c23 = Avx512F.FusedMultiplyAdd(x, b3, c23);
            x = Vector512.Create(Unsafe.Add(ref a3, kk));
            c30 = Avx512F.FusedMultiplyAdd(x, b0, c30);
            c31 = Avx512F.FusedMultiplyAdd(x, b1, c31);
            c32 = Avx512F.FusedMultiplyAdd(x, b2, c32);
            c33 = Avx512F.FusedMultiplyAdd(x, b3, c33);
            bk = ref Unsafe.Add(ref bk, PanelLayout.PanelWidth);
        }
        c00.StoreUnsafe(ref c, 0);
        c01.StoreUnsafe(ref c, 16);
        c02.StoreUnsafe(ref c, 32);
        c03.StoreUnsafe(ref c, 48);
        c10.StoreUnsafe(ref c, (nuint)ldc);
        c11.StoreUnsafe(ref c, (nuint)(ldc + 16));
        c12.StoreUnsafe(ref c, (nuint)(ldc + 32));
        c13.StoreUnsafe(ref c, (nuint)(ldc + 48));
        c20.StoreUnsafe(ref c, (nuint)(2 * ldc));
        c21.StoreUnsafe(ref c, (nuint)((2 * ldc) + 16));
        c22.StoreUnsafe(ref c, (nuint)((2 * ldc) + 32));
        c23.StoreUnsafe(ref c, (nuint)((2 * ldc) + 48));
        c30.StoreUnsafe(ref c, (nuint)(3 * ldc));
        c31.StoreUnsafe(ref c, (nuint)((3 * ldc) + 16));
        c32.StoreUnsafe(ref c, (nuint)((3 * ldc) + 32));
        c33.StoreUnsafe(ref c, (nuint)((3 * ldc) + 48));
    }

    /// <summary>One row × 128 outputs (two groups): 8 independent chains, so a GEMV streams its weights.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Row1x128(ref float a, int k, ref ushort b, nint panelStride, ref float c, GemmInit init, ref float bias)
    {
        Vector512<float> c0 = Init(init, ref c, ref bias, 0), c1 = Init(init, ref c, ref bias, 16), c2 = Init(init, ref c, ref bias, 32), c3 = Init(init, ref c, ref bias, 48);
        Vector512<float> c4 = Init(init, ref c, ref bias, 64), c5 = Init(init, ref c, ref bias, 80), c6 = Init(init, ref c, ref bias, 96), c7 = Init(init, ref c, ref bias, 112);
        ref ushort bk = ref b;
        for (nint kk = 0; kk < k; kk++)
        {
            Vector512<float> x = Vector512.Create(Unsafe.Add(ref a, kk));
            c0 = Avx512F.FusedMultiplyAdd(x, TWiden.Widen(Vector256.LoadUnsafe(ref bk)), c0);
            c1 = Avx512F.FusedMultiplyAdd(x, TWiden.Widen(Vector256.LoadUnsafe(ref bk, (nuint)panelStride)), c1);
            c2 = Avx512F.FusedMultiplyAdd(x, TWiden.Widen(Vector256.LoadUnsafe(ref bk, (nuint)(2 * panelStride))), c2);
            c3 = Avx512F.FusedMultiplyAdd(x, TWiden.Widen(Vector256.LoadUnsafe(ref bk, (nuint)(3 * panelStride))), c3);
            c4 = Avx512F.FusedMultiplyAdd(x, TWiden.Widen(Vector256.LoadUnsafe(ref bk, (nuint)(4 * panelStride))), c4);
            c5 = Avx512F.FusedMultiplyAdd(x, TWiden.Widen(Vector256.LoadUnsafe(ref bk, (nuint)(5 * panelStride))), c5);
            c6 = Avx512F.FusedMultiplyAdd(x, TWiden.Widen(Vector256.LoadUnsafe(ref bk, (nuint)(6 * panelStride))), c6);
            c7 = Avx512F.FusedMultiplyAdd(x, TWiden.Widen(Vector256.LoadUnsafe(ref bk, (nuint)(7 * panelStride))), c7);
            bk = ref Unsafe.Add(ref bk, PanelLayout.PanelWidth);
        }
        c0.StoreUnsafe(ref c, 0);
        c1.StoreUnsafe(ref c, 16);
        c2.StoreUnsafe(ref c, 32);
        c3.StoreUnsafe(ref c, 48);
        c4.StoreUnsafe(ref c, 64);
        c5.StoreUnsafe(ref c, 80);
        c6.StoreUnsafe(ref c, 96);
        c7.StoreUnsafe(ref c, 112);
    }

    /// <summary>One row × 64 outputs: 4 chains, for the last group of a row.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Row1x64(ref float a, int k, ref ushort b, nint panelStride, ref float c, GemmInit init, ref float bias)
    {
        Vector512<float> c0 = Init(init, ref c, ref bias, 0), c1 = Init(init, ref c, ref bias, 16), c2 = Init(init, ref c, ref bias, 32), c3 = Init(init, ref c, ref bias, 48);
        ref ushort bk = ref b;
        for (nint kk = 0; kk < k; kk++)
        {
            Vector512<float> x = Vector512.Create(Unsafe.Add(ref a, kk));
            c0 = Avx512F.FusedMultiplyAdd(x, TWiden.Widen(Vector256.LoadUnsafe(ref bk)), c0);
            c1 = Avx512F.FusedMultiplyAdd(x, TWiden.Widen(Vector256.LoadUnsafe(ref bk, (nuint)panelStride)), c1);
            c2 = Avx512F.FusedMultiplyAdd(x, TWiden.Widen(Vector256.LoadUnsafe(ref bk, (nuint)(2 * panelStride))), c2);
            c3 = Avx512F.FusedMultiplyAdd(x, TWiden.Widen(Vector256.LoadUnsafe(ref bk, (nuint)(3 * panelStride))), c3);
            bk = ref Unsafe.Add(ref bk, PanelLayout.PanelWidth);
        }
        c0.StoreUnsafe(ref c, 0);
        c1.StoreUnsafe(ref c, 16);
        c2.StoreUnsafe(ref c, 32);
        c3.StoreUnsafe(ref c, 48);
    }
}
