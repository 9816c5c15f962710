using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Lstm.Simd.QuantizedKernels;

/// <summary>
/// The vector forms of <see cref="ActivationQuantizer"/> and <see cref="Int8KernelScalar.Epilogue"/>: the same float
/// operations lane by lane (a correctly rounded division, <c>cvtps2dq</c>'s round-to-nearest-even, one FMA), so they
/// give the scalar twin's bits.
/// </summary>
internal static class Int8Vector
{
    private const int NonFiniteBits = 0x7F80_0000;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float QuantizeRow512(ref float a, int k, Span<sbyte> q)
    {
        ref int bits = ref Unsafe.As<float, int>(ref a);
        Vector512<int> absMask = Vector512.Create(0x7FFF_FFFF);
        Vector512<int> max = Vector512<int>.Zero;
        int i = 0;
        for (; i + 16 <= k; i += 16)
        {
            max = Vector512.Max(max, Vector512.LoadUnsafe(ref bits, (nuint)i) & absMask);
        }
        float scale = ScaleOf(Horizontal(Vector256.Max(max.GetLower(), max.GetUpper())), ref bits, i, k);
        if (!(scale > 0f))
        {
            q.Clear();
            return scale;
        }
        Vector512<float> divisor = Vector512.Create(scale);
        Vector512<int> hi = Vector512.Create(127), lo = Vector512.Create(-127);
        ref sbyte dst = ref q[0];
        i = 0;
        for (; i + 16 <= k; i += 16)
        {
            Vector512<int> rounded = Avx512F.ConvertToVector512Int32(Vector512.LoadUnsafe(ref a, (nuint)i) / divisor);
            Avx512F.ConvertToVector128SByte(Vector512.Min(Vector512.Max(rounded, lo), hi)).StoreUnsafe(ref dst, (nuint)i);
        }
        FinishRow(ref a, i, k, scale, q);
        return scale;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float QuantizeRow256(ref float a, int k, Span<sbyte> q)
    {
        ref int bits = ref Unsafe.As<float, int>(ref a);
        Vector256<int> absMask = Vector256.Create(0x7FFF_FFFF);
        Vector256<int> max = Vector256<int>.Zero;
        int i = 0;
        for (; i + 8 <= k; i += 8)
        {
            max = Vector256.Max(max, Vector256.LoadUnsafe(ref bits, (nuint)i) & absMask);
        }
        float scale = ScaleOf(Horizontal(max), ref bits, i, k);
        if (!(scale > 0f))
        {
            q.Clear();
            return scale;
        }
        Vector256<float> divisor = Vector256.Create(scale);
        Vector256<int> hi = Vector256.Create(127), lo = Vector256.Create(-127);
        ref sbyte dst = ref q[0];
        i = 0;
        for (; i + 16 <= k; i += 16)
        {
            Vector256<int> r0 = Avx.ConvertToVector256Int32(Vector256.LoadUnsafe(ref a, (nuint)i) / divisor);
            Vector256<int> r1 = Avx.ConvertToVector256Int32(Vector256.LoadUnsafe(ref a, (nuint)(i + 8)) / divisor);
            Vector256<short> s16 = Vector256.Narrow(Vector256.Min(Vector256.Max(r0, lo), hi), Vector256.Min(Vector256.Max(r1, lo), hi));
            Vector256.Narrow(s16, s16).GetLower().StoreUnsafe(ref dst, (nuint)i);
        }
        FinishRow(ref a, i, k, scale, q);
        return scale;
    }

    private static int Horizontal(Vector256<int> max)
    {
        Vector128<int> m = Vector128.Max(max.GetLower(), max.GetUpper());
        return Math.Max(Math.Max(m.GetElement(0), m.GetElement(1)), Math.Max(m.GetElement(2), m.GetElement(3)));
    }

    /// <summary>NaN for a non-finite row (its bit pattern is at least infinity's), else max|a| / 127.</summary>
    private static float ScaleOf(int maxBits) => maxBits >= NonFiniteBits ? float.NaN : BitConverter.Int32BitsToSingle(maxBits) / 127f;

    /// <summary>The row's scale from the vector part's largest |a| bits and the scalar tail [<paramref name="from"/>, <paramref name="k"/>).</summary>
    private static float ScaleOf(int maxBits, ref int bits, int from, int k)
    {
        for (int i = from; i < k; i++)
        {
            maxBits = Math.Max(maxBits, Unsafe.Add(ref bits, i) & 0x7FFF_FFFF);
        }
        return ScaleOf(maxBits);
    }

    private static void FinishRow(ref float a, int from, int k, float scale, Span<sbyte> q)
    {
        for (int i = from; i < k; i++)
        {
            q[i] = (sbyte)Math.Clamp(MathF.Round(Unsafe.Add(ref a, i) / scale), -127f, 127f);
        }
        q[k..].Clear();
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Epilogue512(int rows, int cols, ref int acc, ReadOnlySpan<float> aScales, ref float wScales, ref float bias, bool useBias, ref float c, nint ldc, bool accumulate)
    {
        for (int r = 0; r < rows; r++)
        {
            ref int accR = ref Unsafe.Add(ref acc, r * Int8Layout.GroupWidth);
            ref float cr = ref Unsafe.Add(ref c, r * ldc);
            Vector512<float> s = Vector512.Create(aScales[r]);
            int j = 0;
            for (; j + 16 <= cols; j += 16)
            {
                Vector512<float> init = accumulate ? Vector512.LoadUnsafe(ref cr, (nuint)j) : useBias ? Vector512.LoadUnsafe(ref bias, (nuint)j) : Vector512<float>.Zero;
                Vector512<float> sum = Vector512.ConvertToSingle(Vector512.LoadUnsafe(ref accR, (nuint)j));
                Avx512F.FusedMultiplyAdd(sum, s * Vector512.LoadUnsafe(ref wScales, (nuint)j), init).StoreUnsafe(ref cr, (nuint)j);
            }
            Tail(j, cols, ref accR, aScales[r], ref wScales, ref bias, useBias, ref cr, accumulate);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Epilogue256(int rows, int cols, ref int acc, ReadOnlySpan<float> aScales, ref float wScales, ref float bias, bool useBias, ref float c, nint ldc, bool accumulate)
    {
        for (int r = 0; r < rows; r++)
        {
            ref int accR = ref Unsafe.Add(ref acc, r * Int8Layout.GroupWidth);
            ref float cr = ref Unsafe.Add(ref c, r * ldc);
            Vector256<float> s = Vector256.Create(aScales[r]);
            int j = 0;
            for (; j + 8 <= cols; j += 8)
            {
                Vector256<float> init = accumulate ? Vector256.LoadUnsafe(ref cr, (nuint)j) : useBias ? Vector256.LoadUnsafe(ref bias, (nuint)j) : Vector256<float>.Zero;
                Vector256<float> sum = Vector256.ConvertToSingle(Vector256.LoadUnsafe(ref accR, (nuint)j));
                Fma.MultiplyAdd(sum, s * Vector256.LoadUnsafe(ref wScales, (nuint)j), init).StoreUnsafe(ref cr, (nuint)j);
            }
            Tail(j, cols, ref accR, aScales[r], ref wScales, ref bias, useBias, ref cr, accumulate);
        }
    }

    private static void Tail(int from, int cols, ref int acc, float aScale, ref float wScales, ref float bias, bool useBias, ref float c, bool accumulate)
    {
        for (int j = from; j < cols; j++)
        {
            ref float cj = ref Unsafe.Add(ref c, j);
            float init = accumulate ? cj : useBias ? Unsafe.Add(ref bias, j) : 0f;
            cj = MathF.FusedMultiplyAdd(Unsafe.Add(ref acc, j), aScale * Unsafe.Add(ref wScales, j), init);
        }
    }
}
