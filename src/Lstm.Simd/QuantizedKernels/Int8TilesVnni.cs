using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

#if NET10_0_OR_GREATER // AvxVnni is a preview API on net8.0
namespace Lstm.Simd.QuantizedKernels;

/// <summary>
/// int8 tiles on <c>vpdpbusd</c> (AVX-VNNI, 256-bit: .NET 10 exposes no 512-bit form). It multiplies unsigned by
/// signed bytes, so each activation is fed as q + 128 (q XOR 0x80) and 128 · Σ_k w is subtracted at the end. The
/// instruction wraps modulo 2^32, and the true sum fits an int32 (K ≤ <see cref="Int8Layout.MaxColumns"/>), so the
/// result is exact even where a partial sum wraps.
/// </summary>
internal static class Int8TilesVnni
{
    private const int Flip = unchecked((int)0x8080_8080);

    /// <summary>One row × 64 outputs: 8 independent accumulators, so a GEMV streams its weights.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Row1(ref sbyte qa, int kGroups, ref sbyte w, nint panelStride, ref int rowSums, ref int acc)
    {
        Vector256<int> c00 = default, c01 = default, c10 = default, c11 = default;
        Vector256<int> c20 = default, c21 = default, c30 = default, c31 = default;
        ref sbyte w0 = ref w;
        ref sbyte w1 = ref Unsafe.Add(ref w, panelStride);
        ref sbyte w2 = ref Unsafe.Add(ref w, 2 * panelStride);
        ref sbyte w3 = ref Unsafe.Add(ref w, 3 * panelStride);
        for (nint g = 0; g < kGroups; g++)
        {
            Vector256<byte> a = Vector256.Create(Unsafe.ReadUnaligned<int>(ref Unsafe.As<sbyte, byte>(ref Unsafe.Add(ref qa, g * 4))) ^ Flip).AsByte();
            nuint line = (nuint)(g * 64);
            c00 = AvxVnni.MultiplyWideningAndAdd(c00, a, Vector256.LoadUnsafe(ref w0, line));
            c01 = AvxVnni.MultiplyWideningAndAdd(c01, a, Vector256.LoadUnsafe(ref w0, line + 32));
            c10 = AvxVnni.MultiplyWideningAndAdd(c10, a, Vector256.LoadUnsafe(ref w1, line));
            c11 = AvxVnni.MultiplyWideningAndAdd(c11, a, Vector256.LoadUnsafe(ref w1, line + 32));
            c20 = AvxVnni.MultiplyWideningAndAdd(c20, a, Vector256.LoadUnsafe(ref w2, line));
            c21 = AvxVnni.MultiplyWideningAndAdd(c21, a, Vector256.LoadUnsafe(ref w2, line + 32));
            c30 = AvxVnni.MultiplyWideningAndAdd(c30, a, Vector256.LoadUnsafe(ref w3, line));
            c31 = AvxVnni.MultiplyWideningAndAdd(c31, a, Vector256.LoadUnsafe(ref w3, line + 32));
        }
        Store(c00, ref rowSums, ref acc, 0);
        Store(c01, ref rowSums, ref acc, 8);
        Store(c10, ref rowSums, ref acc, 16);
        Store(c11, ref rowSums, ref acc, 24);
        Store(c20, ref rowSums, ref acc, 32);
        Store(c21, ref rowSums, ref acc, 40);
        Store(c30, ref rowSums, ref acc, 48);
        Store(c31, ref rowSums, ref acc, 56);
    }

    /// <summary>Four rows × 64 outputs, two panels at a time: each weight load feeds four rows (16 accumulators).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Rows4(ref sbyte qa, nint lda, int kGroups, ref sbyte w, nint panelStride, ref int rowSums, ref int acc)
    {
        for (int pair = 0; pair < 2; pair++)
        {
            ref sbyte wa = ref Unsafe.Add(ref w, 2 * pair * panelStride);
            ref sbyte wb = ref Unsafe.Add(ref wa, panelStride);
            Vector256<int> r0a0 = default, r0a1 = default, r0b0 = default, r0b1 = default;
            Vector256<int> r1a0 = default, r1a1 = default, r1b0 = default, r1b1 = default;
            Vector256<int> r2a0 = default, r2a1 = default, r2b0 = default, r2b1 = default;
            Vector256<int> r3a0 = default, r3a1 = default, r3b0 = default, r3b1 = default;
            ref byte a0 = ref Unsafe.As<sbyte, byte>(ref qa);
            ref byte a1 = ref Unsafe.Add(ref a0, lda);
            ref byte a2 = ref Unsafe.Add(ref a0, 2 * lda);
            ref byte a3 = ref Unsafe.Add(ref a0, 3 * lda);
            for (nint g = 0; g < kGroups; g++)
            {
                nuint line = (nuint)(g * 64);
                Vector256<sbyte> wa0 = Vector256.LoadUnsafe(ref wa, line);
                Vector256<sbyte> wa1 = Vector256.LoadUnsafe(ref wa, line + 32);
                Vector256<sbyte> wb0 = Vector256.LoadUnsafe(ref wb, line);
                Vector256<sbyte> wb1 = Vector256.LoadUnsafe(ref wb, line + 32);
                Vector256<byte> x = Vector256.Create(Unsafe.ReadUnaligned<int>(ref Unsafe.Add(ref a0, g * 4)) ^ Flip).AsByte();
                r0a0 = AvxVnni.MultiplyWideningAndAdd(r0a0, x, wa0);
                r0a1 = AvxVnni.MultiplyWideningAndAdd(r0a1, x, wa1);
                r0b0 = AvxVnni.MultiplyWideningAndAdd(r0b0, x, wb0);
                r0b1 = AvxVnni.MultiplyWideningAndAdd(r0b1, x, wb1);
                x = Vector256.Create(Unsafe.ReadUnaligned<int>(ref Unsafe.Add(ref a1, g * 4)) ^ Flip).AsByte();
                r1a0 = AvxVnni.MultiplyWideningAndAdd(r1a0, x, wa0);
                r1a1 = AvxVnni.MultiplyWideningAndAdd(r1a1, x, wa1);
                r1b0 = AvxVnni.MultiplyWideningAndAdd(r1b0, x, wb0);
                r1b1 = AvxVnni.MultiplyWideningAndAdd(r1b1, x, wb1);
                x = Vector256.Create(Unsafe.ReadUnaligned<int>(ref Unsafe.Add(ref a2, g * 4)) ^ Flip).AsByte();
                r2a0 = AvxVnni.MultiplyWideningAndAdd(r2a0, x, wa0);
                r2a1 = AvxVnni.MultiplyWideningAndAdd(r2a1, x, wa1);
                r2b0 = AvxVnni.MultiplyWideningAndAdd(r2b0, x, wb0);
                r2b1 = AvxVnni.MultiplyWideningAndAdd(r2b1, x, wb1);
                x = Vector256.Create(Unsafe.ReadUnaligned<int>(ref Unsafe.Add(ref a3, g * 4)) ^ Flip).AsByte();
                r3a0 = AvxVnni.MultiplyWideningAndAdd(r3a0, x, wa0);
                r3a1 = AvxVnni.MultiplyWideningAndAdd(r3a1, x, wa1);
                r3b0 = AvxVnni.MultiplyWideningAndAdd(r3b0, x, wb0);
                r3b1 = AvxVnni.MultiplyWideningAndAdd(r3b1, x, wb1);
            }
            int col = pair * 32;
            Store(r0a0, ref rowSums, ref acc, col);
            Store(r0a1, ref rowSums, ref acc, col + 8);
            Store(r0b0, ref rowSums, ref acc, col + 16);
            Store(r0b1, ref rowSums, ref acc, col + 24);
            Store(r1a0, ref rowSums, ref acc, Int8Layout.GroupWidth + col);
            Store(r1a1, ref rowSums, ref acc, Int8Layout.GroupWidth + col + 8);
            Store(r1b0, ref rowSums, ref acc, Int8Layout.GroupWidth + col + 16);
            Store(r1b1, ref rowSums, ref acc, Int8Layout.GroupWidth + col + 24);
            Store(r2a0, ref rowSums, ref acc, (2 * Int8Layout.GroupWidth) + col);
            Store(r2a1, ref rowSums, ref acc, (2 * Int8Layout.GroupWidth) + col + 8);
            Store(r2b0, ref rowSums, ref acc, (2 * Int8Layout.GroupWidth) + col + 16);
            Store(r2b1, ref rowSums, ref acc, (2 * Int8Layout.GroupWidth) + col + 24);
            Store(r3a0, ref rowSums, ref acc, (3 * Int8Layout.GroupWidth) + col);
            Store(r3a1, ref rowSums, ref acc, (3 * Int8Layout.GroupWidth) + col + 8);
            Store(r3b0, ref rowSums, ref acc, (3 * Int8Layout.GroupWidth) + col + 16);
            Store(r3b1, ref rowSums, ref acc, (3 * Int8Layout.GroupWidth) + col + 24);
        }
    }

    /// <summary>acc[index..+8] = sum − 128 · Σw for the outputs at column (index mod 64).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(Vector256<int> sum, ref int rowSums, ref int acc, int index)
    {
        Vector256<int> offset = Vector256.LoadUnsafe(ref rowSums, (nuint)(index % Int8Layout.GroupWidth)) << 7;
        (sum - offset).StoreUnsafe(ref acc, (nuint)index);
    }
}
#endif
