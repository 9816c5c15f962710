using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Lstm.Simd.QuantizedKernels;

/// <summary>
/// int8 tiles for CPUs without VNNI: weights sign-extended to int16 (<c>vpmovsxbw</c>) and multiplied by the four
/// activations of the line with <c>vpmaddwd</c>, which adds adjacent products into int32. Nothing saturates
/// (|q| ≤ 127: a pair is at most 2 · 127² = 32258), so the sums are exact. Each int32 lane holds half of an output's
/// 4-k group; adjacent lanes are added at the end.
/// </summary>
internal static class Int8TilesWiden
{
    /// <summary>The four activations q[4g..4g+4) as int16, repeated in every 64-bit lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static long Quad(ref sbyte qa, nint g)
    {
        Vector128<short> wide = Sse41.ConvertToVector128Int16(Vector128.CreateScalarUnsafe(Unsafe.ReadUnaligned<int>(ref Unsafe.As<sbyte, byte>(ref Unsafe.Add(ref qa, g * 4)))).AsSByte());
        return wide.AsInt64().ToScalar();
    }

    /// <summary>Vector512 (AVX-512BW): one row × 64 outputs, 8 accumulators.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Row1x512(ref sbyte qa, int kGroups, ref sbyte w, nint panelStride, ref int acc)
    {
        Vector512<int> c00 = default, c01 = default, c10 = default, c11 = default;
        Vector512<int> c20 = default, c21 = default, c30 = default, c31 = default;
        ref sbyte w0 = ref w;
        ref sbyte w1 = ref Unsafe.Add(ref w, panelStride);
        ref sbyte w2 = ref Unsafe.Add(ref w, 2 * panelStride);
        ref sbyte w3 = ref Unsafe.Add(ref w, 3 * panelStride);
        for (nint g = 0; g < kGroups; g++)
        {
            Vector512<short> a = Vector512.Create(Quad(ref qa, g)).AsInt16();
            nuint line = (nuint)(g * 64);
            c00 += Avx512BW.MultiplyAddAdjacent(Avx512BW.ConvertToVector512Int16(Vector256.LoadUnsafe(ref w0, line)), a);
            c01 += Avx512BW.MultiplyAddAdjacent(Avx512BW.ConvertToVector512Int16(Vector256.LoadUnsafe(ref w0, line + 32)), a);
            c10 += Avx512BW.MultiplyAddAdjacent(Avx512BW.ConvertToVector512Int16(Vector256.LoadUnsafe(ref w1, line)), a);
            c11 += Avx512BW.MultiplyAddAdjacent(Avx512BW.ConvertToVector512Int16(Vector256.LoadUnsafe(ref w1, line + 32)), a);
            c20 += Avx512BW.MultiplyAddAdjacent(Avx512BW.ConvertToVector512Int16(Vector256.LoadUnsafe(ref w2, line)), a);
            c21 += Avx512BW.MultiplyAddAdjacent(Avx512BW.ConvertToVector512Int16(Vector256.LoadUnsafe(ref w2, line + 32)), a);
            c30 += Avx512BW.MultiplyAddAdjacent(Avx512BW.ConvertToVector512Int16(Vector256.LoadUnsafe(ref w3, line)), a);
            c31 += Avx512BW.MultiplyAddAdjacent(Avx512BW.ConvertToVector512Int16(Vector256.LoadUnsafe(ref w3, line + 32)), a);
        }
        Store512(c00, ref acc, 0);
        Store512(c01, ref acc, 8);
        Store512(c10, ref acc, 16);
        Store512(c11, ref acc, 24);
        Store512(c20, ref acc, 32);
        Store512(c21, ref acc, 40);
        Store512(c30, ref acc, 48);
        Store512(c31, ref acc, 56);
    }

    /// <summary>Vector512: four rows × 64 outputs, one panel at a time; each widened weight vector feeds four rows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Rows4x512(ref sbyte qa, nint lda, int kGroups, ref sbyte w, nint panelStride, ref int acc)
    {
        ref sbyte a1 = ref Unsafe.Add(ref qa, lda);
        ref sbyte a2 = ref Unsafe.Add(ref qa, 2 * lda);
        ref sbyte a3 = ref Unsafe.Add(ref qa, 3 * lda);
        for (int panel = 0; panel < 4; panel++)
        {
            ref sbyte wp = ref Unsafe.Add(ref w, panel * panelStride);
            Vector512<int> r00 = default, r01 = default, r10 = default, r11 = default;
            Vector512<int> r20 = default, r21 = default, r30 = default, r31 = default;
            for (nint g = 0; g < kGroups; g++)
            {
                nuint line = (nuint)(g * 64);
                Vector512<short> lo = Avx512BW.ConvertToVector512Int16(Vector256.LoadUnsafe(ref wp, line));
                Vector512<short> hi = Avx512BW.ConvertToVector512Int16(Vector256.LoadUnsafe(ref wp, line + 32));
                Vector512<short> x = Vector512.Create(Quad(ref qa, g)).AsInt16();
                r00 += Avx512BW.MultiplyAddAdjacent(lo, x);
                r01 += Avx512BW.MultiplyAddAdjacent(hi, x);
                x = Vector512.Create(Quad(ref a1, g)).AsInt16();
                r10 += Avx512BW.MultiplyAddAdjacent(lo, x);
                r11 += Avx512BW.MultiplyAddAdjacent(hi, x);
                x = Vector512.Create(Quad(ref a2, g)).AsInt16();
                r20 += Avx512BW.MultiplyAddAdjacent(lo, x);
                r21 += Avx512BW.MultiplyAddAdjacent(hi, x);
                x = Vector512.Create(Quad(ref a3, g)).AsInt16();
                r30 += Avx512BW.MultiplyAddAdjacent(lo, x);
                r31 += Avx512BW.MultiplyAddAdjacent(hi, x);
            }
            int col = panel * Int8Layout.PanelWidth;
            Store512(r00, ref acc, col);
            Store512(r01, ref acc, col + 8);
            Store512(r10, ref acc, Int8Layout.GroupWidth + col);
            Store512(r11, ref acc, Int8Layout.GroupWidth + col + 8);
            Store512(r20, ref acc, (2 * Int8Layout.GroupWidth) + col);
            Store512(r21, ref acc, (2 * Int8Layout.GroupWidth) + col + 8);
            Store512(r30, ref acc, (3 * Int8Layout.GroupWidth) + col);
            Store512(r31, ref acc, (3 * Int8Layout.GroupWidth) + col + 8);
        }
    }

    /// <summary>Adds each pair of int32 lanes (the two halves of an output's group) and stores the 8 outputs.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store512(Vector512<int> pairs, ref int acc, int index)
    {
        Vector512<int> sums = pairs + Vector512.ShiftRightLogical(pairs.AsUInt64(), 32).AsInt32();
        Avx512F.ConvertToVector256Int32(sums.AsInt64()).StoreUnsafe(ref acc, (nuint)index);
    }

    /// <summary>Vector256 (AVX2): one row × 64 outputs, a pair of panels at a time (8 accumulators).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Row1x256(ref sbyte qa, int kGroups, ref sbyte w, nint panelStride, ref int acc)
    {
        for (int pair = 0; pair < 2; pair++)
        {
            ref sbyte wa = ref Unsafe.Add(ref w, 2 * pair * panelStride);
            ref sbyte wb = ref Unsafe.Add(ref wa, panelStride);
            Vector256<int> a0 = default, a1 = default, a2 = default, a3 = default;
            Vector256<int> b0 = default, b1 = default, b2 = default, b3 = default;
            for (nint g = 0; g < kGroups; g++)
            {
                Vector256<short> x = Vector256.Create(Quad(ref qa, g)).AsInt16();
                nuint line = (nuint)(g * 64);
                a0 += Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref wa, line)), x);
                a1 += Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref wa, line + 16)), x);
                a2 += Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref wa, line + 32)), x);
                a3 += Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref wa, line + 48)), x);
                b0 += Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref wb, line)), x);
                b1 += Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref wb, line + 16)), x);
                b2 += Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref wb, line + 32)), x);
                b3 += Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref wb, line + 48)), x);
            }
            int col = pair * 2 * Int8Layout.PanelWidth;
            Store256(a0, a1, ref acc, col);
            Store256(a2, a3, ref acc, col + 8);
            Store256(b0, b1, ref acc, col + 16);
            Store256(b2, b3, ref acc, col + 24);
        }
    }

    /// <summary>Vector256: four rows × 64 outputs, one panel at a time (16 accumulators); each weight vector feeds four rows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Rows4x256(ref sbyte qa, nint lda, int kGroups, ref sbyte w, nint panelStride, ref int acc)
    {
        ref sbyte q1 = ref Unsafe.Add(ref qa, lda);
        ref sbyte q2 = ref Unsafe.Add(ref qa, 2 * lda);
        ref sbyte q3 = ref Unsafe.Add(ref qa, 3 * lda);
        for (int panel = 0; panel < 4; panel++)
        {
            ref sbyte wp = ref Unsafe.Add(ref w, panel * panelStride);
            for (int half = 0; half < 2; half++)
            {
                Vector256<int> r00 = default, r01 = default, r10 = default, r11 = default;
                Vector256<int> r20 = default, r21 = default, r30 = default, r31 = default;
                for (nint g = 0; g < kGroups; g++)
                {
                    nuint line = (nuint)((g * 64) + (half * 32));
                    Vector256<short> w0 = Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref wp, line));
                    Vector256<short> w1 = Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref wp, line + 16));
                    Vector256<short> x = Vector256.Create(Quad(ref qa, g)).AsInt16();
                    r00 += Avx2.MultiplyAddAdjacent(w0, x);
                    r01 += Avx2.MultiplyAddAdjacent(w1, x);
                    x = Vector256.Create(Quad(ref q1, g)).AsInt16();
                    r10 += Avx2.MultiplyAddAdjacent(w0, x);
                    r11 += Avx2.MultiplyAddAdjacent(w1, x);
                    x = Vector256.Create(Quad(ref q2, g)).AsInt16();
                    r20 += Avx2.MultiplyAddAdjacent(w0, x);
                    r21 += Avx2.MultiplyAddAdjacent(w1, x);
                    x = Vector256.Create(Quad(ref q3, g)).AsInt16();
                    r30 += Avx2.MultiplyAddAdjacent(w0, x);
                    r31 += Avx2.MultiplyAddAdjacent(w1, x);
                }
                int col = (panel * Int8Layout.PanelWidth) + (half * 8);
                Store256(r00, r01, ref acc, col);
                Store256(r10, r11, ref acc, Int8Layout.GroupWidth + col);
                Store256(r20, r21, ref acc, (2 * Int8Layout.GroupWidth) + col);
                Store256(r30, r31, ref acc, (3 * Int8Layout.GroupWidth) + col);
            }
        }
    }

    /// <summary>
    /// <paramref name="first"/> holds outputs 0–3 and <paramref name="second"/> outputs 4–7, each as lane pairs;
    /// <c>vphaddd</c> adds the pairs (per 128-bit half), and a 64-bit permute puts the 8 outputs in order.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store256(Vector256<int> first, Vector256<int> second, ref int acc, int index)
    {
        Vector256<int> sums = Avx2.HorizontalAdd(first, second);
        Avx2.Permute4x64(sums.AsInt64(), 0b11_01_10_00).AsInt32().StoreUnsafe(ref acc, (nuint)index);
    }
}
