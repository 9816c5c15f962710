using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Lstm.Simd.QuantizedKernels;

/// <summary>Widening of finite 16-bit weights to float32, exact (every fp16 and bf16 value is a float).</summary>
internal interface IHalfWidening
{
    static abstract Vector512<float> Widen(Vector256<ushort> bits);

    static abstract Vector256<float> Widen(Vector128<ushort> bits);

    /// <summary>The first four of eight weights, in the cross-platform API only (the Vector128 path, NEON included).</summary>
    static abstract Vector128<float> WidenLower(Vector128<ushort> bits);

    /// <summary>The last four of eight weights, as <see cref="WidenLower"/>.</summary>
    static abstract Vector128<float> WidenUpper(Vector128<ushort> bits);
}

/// <summary>bf16: the upper half of a float, so widening is a zero-extension and a 16-bit shift.</summary>
internal readonly struct BFloat16Widening : IHalfWidening
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Widen(Vector256<ushort> bits) => Vector512.ShiftLeft(Avx512F.ConvertToVector512UInt32(bits), 16).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Widen(Vector128<ushort> bits) => Vector256.ShiftLeft(Avx2.ConvertToVector256Int32(bits), 16).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> WidenLower(Vector128<ushort> bits) => Vector128.ShiftLeft(Vector128.WidenLower(bits), 16).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> WidenUpper(Vector128<ushort> bits) => Vector128.ShiftLeft(Vector128.WidenUpper(bits), 16).AsSingle();
}

/// <summary>
/// fp16 without <c>vcvtph2ps</c> (.NET 10 exposes none), in four operations: sign-extend to 32 bits and shift left
/// by 13, which puts exponent and mantissa at float's positions and the sign at bit 31; clear bits 28–30 (copies of
/// the sign); multiply by 2^112 to rebias the exponent. The multiplication is exact for normal and subnormal halves
/// alike (the masked pattern is itself a float, subnormal for a subnormal half, and scaling by a power of two loses
/// nothing) and keeps the sign, ±0 included. Infinities and NaNs never reach here (rejected at packing).
/// </summary>
internal readonly struct Float16Widening : IHalfWidening
{
    private const float Rebias = 5.192297e33f; // 2^112 = 2^(127 − 15), exactly (tests check every pattern)
    private const int SignExponentMantissa = unchecked((int)0x8FFF_E000);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Widen(Vector256<ushort> bits)
    {
        Vector512<int> shifted = Vector512.ShiftLeft(Avx512F.ConvertToVector512Int32(bits.AsInt16()), 13);
        return (shifted & Vector512.Create(SignExponentMantissa)).AsSingle() * Vector512.Create(Rebias);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Widen(Vector128<ushort> bits)
    {
        Vector256<int> shifted = Vector256.ShiftLeft(Avx2.ConvertToVector256Int32(bits.AsInt16()), 13);
        return (shifted & Vector256.Create(SignExponentMantissa)).AsSingle() * Vector256.Create(Rebias);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> WidenLower(Vector128<ushort> bits) => Finish(Vector128.WidenLower(bits.AsInt16()));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> WidenUpper(Vector128<ushort> bits) => Finish(Vector128.WidenUpper(bits.AsInt16()));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Finish(Vector128<int> signExtended) =>
        (Vector128.ShiftLeft(signExtended, 13) & Vector128.Create(SignExponentMantissa)).AsSingle() * Vector128.Create(Rebias);
}
