using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Lstm.Simd.QuantizedKernels;

/// <summary>The int8 integer tiles: the scalar twin and the vector variants (each computes the same int32 sums).</summary>
internal enum Int8Kernel
{
    Scalar = 0,

    /// <summary>AVX2: int16 widening and <c>vpmaddwd</c>.</summary>
    Widen256 = 1,

    /// <summary>AVX-VNNI <c>vpdpbusd</c> on 256-bit vectors (the only width .NET 10 exposes).</summary>
    Vnni256 = 2,

    /// <summary>AVX-512BW: int16 widening and <c>vpmaddwd</c> on 512-bit vectors.</summary>
    Widen512 = 3,
}

/// <summary>Which int8 tile runs for a <see cref="SimdPath"/>, and the dispatch to it.</summary>
internal static class Int8Kernels
{
    /// <summary>Every variant this CPU can run, so tests can force each one.</summary>
    public static IReadOnlyList<Int8Kernel> Available { get; } =
        new[] { Int8Kernel.Vnni256, Int8Kernel.Widen512, Int8Kernel.Widen256, Int8Kernel.Scalar }.Where(IsSupported).ToArray();

    public static bool IsSupported(Int8Kernel kernel) => kernel switch
    {
        Int8Kernel.Scalar => true,
        Int8Kernel.Widen256 => SimdPaths.IsSupported(SimdPath.Avx2),
        Int8Kernel.Vnni256 => SimdPaths.IsSupported(SimdPath.Avx2) && VnniSupported(),
        Int8Kernel.Widen512 => SimdPaths.IsSupported(SimdPath.Avx512) && Avx512BW.IsSupported,
        _ => false,
    };

#if NET10_0_OR_GREATER
    private static bool VnniSupported() => AvxVnni.IsSupported;
#else
    // AvxVnni is a preview API on net8.0: that build runs the widening tiles.
    private static bool VnniSupported() => false;
#endif

    /// <summary>VNNI where the CPU has it (one instruction per 32 weight bytes), else the path's widening tile.</summary>
    public static Int8Kernel For(SimdPath path) => path switch
    {
        SimdPath.Avx512 or SimdPath.Avx2 when IsSupported(Int8Kernel.Vnni256) => Int8Kernel.Vnni256,
        SimdPath.Avx512 when IsSupported(Int8Kernel.Widen512) => Int8Kernel.Widen512,
        SimdPath.Avx512 or SimdPath.Avx2 => Int8Kernel.Widen256,
        _ => Int8Kernel.Scalar,
    };

    public static float QuantizeRow(Int8Kernel kernel, ref float a, int k, Span<sbyte> q) => kernel switch
    {
        Int8Kernel.Widen512 => Int8Vector.QuantizeRow512(ref a, k, q),
        Int8Kernel.Widen256 or Int8Kernel.Vnni256 => Int8Vector.QuantizeRow256(ref a, k, q),
        _ => ActivationQuantizer.QuantizeRow(ref a, k, q),
    };

    /// <summary>Exact Σ_k qa[r, k] · qw[j, k] for <paramref name="rows"/> (1–4) rows and the 64 outputs of one group.</summary>
    public static void Tile(Int8Kernel kernel, int rows, ref sbyte qa, nint lda, int kGroups, ref sbyte w, nint panelStride, ref int rowSums, Span<int> acc)
    {
#if !NET10_0_OR_GREATER
        _ = rowSums;
#endif
        ref int acc0 = ref acc[0];
        if (kernel == Int8Kernel.Scalar)
        {
            Int8KernelScalar.Tile(rows, ref qa, lda, kGroups, ref w, panelStride, acc);
            return;
        }
        if (rows == 4)
        {
            switch (kernel)
            {
#if NET10_0_OR_GREATER
                case Int8Kernel.Vnni256:
                    Int8TilesVnni.Rows4(ref qa, lda, kGroups, ref w, panelStride, ref rowSums, ref acc0);
                    break;
#endif
                case Int8Kernel.Widen512:
                    Int8TilesWiden.Rows4x512(ref qa, lda, kGroups, ref w, panelStride, ref acc0);
                    break;
                default:
                    Int8TilesWiden.Rows4x256(ref qa, lda, kGroups, ref w, panelStride, ref acc0);
                    break;
            }
            return;
        }
        for (int r = 0; r < rows; r++)
        {
            ref sbyte qr = ref System.Runtime.CompilerServices.Unsafe.Add(ref qa, r * lda);
            ref int accR = ref acc[r * Int8Layout.GroupWidth];
            switch (kernel)
            {
#if NET10_0_OR_GREATER
                case Int8Kernel.Vnni256:
                    Int8TilesVnni.Row1(ref qr, kGroups, ref w, panelStride, ref rowSums, ref accR);
                    break;
#endif
                case Int8Kernel.Widen512:
                    Int8TilesWiden.Row1x512(ref qr, kGroups, ref w, panelStride, ref accR);
                    break;
                default:
                    Int8TilesWiden.Row1x256(ref qr, kGroups, ref w, panelStride, ref accR);
                    break;
            }
        }
    }

    public static void Epilogue(Int8Kernel kernel, int rows, int cols, Span<int> acc, ReadOnlySpan<float> aScales, ref float wScales, ref float bias, bool useBias, ref float c, nint ldc, bool accumulate)
    {
        switch (kernel)
        {
            case Int8Kernel.Widen512:
                Int8Vector.Epilogue512(rows, cols, ref acc[0], aScales, ref wScales, ref bias, useBias, ref c, ldc, accumulate);
                break;
            case Int8Kernel.Widen256 or Int8Kernel.Vnni256:
                Int8Vector.Epilogue256(rows, cols, ref acc[0], aScales, ref wScales, ref bias, useBias, ref c, ldc, accumulate);
                break;
            default:
                Int8KernelScalar.Epilogue(rows, cols, acc, aScales, ref wScales, ref bias, useBias, ref c, ldc, accumulate);
                break;
        }
    }
}
