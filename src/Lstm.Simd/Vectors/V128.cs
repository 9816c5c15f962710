using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
#if !NET9_0_OR_GREATER
using System.Runtime.Intrinsics.Arm;
#endif

namespace Lstm.Simd.Vectors;

/// <summary>
/// A <c>Vector128&lt;float&gt;</c> seen through <see cref="IVec{TSelf}"/>, written only in the cross-platform API so that
/// the same code runs on NEON (ARM64) and SSE (x86). <see cref="SimdPaths.IsSupported"/> offers it only where the
/// fused multiply-add is one instruction.
/// </summary>
internal readonly struct V128(Vector128<float> value) : IVec<V128>
{
    public readonly Vector128<float> Value = value;

    public static int Count => Vector128<float>.Count;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V128 Load(ref float source, nuint index) => new(Vector128.LoadUnsafe(ref source, index));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(V128 value, ref float destination, nuint index) => value.Value.StoreUnsafe(ref destination, index);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V128 Create(float value) => new(Vector128.Create(value));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V128 operator +(V128 a, V128 b) => new(a.Value + b.Value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V128 operator -(V128 a, V128 b) => new(a.Value - b.Value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V128 operator *(V128 a, V128 b) => new(a.Value * b.Value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V128 operator /(V128 a, V128 b) => new(a.Value / b.Value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V128 Fma(V128 a, V128 b, V128 c) => new(FusedMultiplyAdd(a.Value, b.Value, c.Value));

    /// <summary>
    /// <c>a · b + c</c> rounded once: <c>vfmadd</c> on x86, <c>fmla</c> on ARM64. net8.0 has no cross-platform form,
    /// so it names the two instructions itself (the path is offered only where one of them exists).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> FusedMultiplyAdd(Vector128<float> a, Vector128<float> b, Vector128<float> c)
    {
#if NET9_0_OR_GREATER
        return Vector128.FusedMultiplyAdd(a, b, c);
#else
        return System.Runtime.Intrinsics.X86.Fma.IsSupported ? System.Runtime.Intrinsics.X86.Fma.MultiplyAdd(a, b, c) : AdvSimd.FusedMultiplyAdd(c, a, b);
#endif
    }

    // Not Vector128.Max/Min: they follow IEEE 754 maximum (a NaN made quiet, +0 above -0) on ARM64 and differ from
    // maxps/minps in those lanes. A compare and a select keep x itself, whatever it is, exactly as the other paths do.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V128 MaxKeepNaN(V128 bound, V128 x) => new(Vector128.ConditionalSelect(Vector128.LessThan(x.Value, bound.Value), bound.Value, x.Value));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V128 MinKeepNaN(V128 bound, V128 x) => new(Vector128.ConditionalSelect(Vector128.GreaterThan(x.Value, bound.Value), bound.Value, x.Value));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V128 LessThan(V128 a, V128 b) => new(Vector128.LessThan(a.Value, b.Value));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V128 Select(V128 mask, V128 ifTrue, V128 ifFalse) => new(Vector128.ConditionalSelect(mask.Value, ifTrue.Value, ifFalse.Value));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V128 Abs(V128 x) => new((x.Value.AsInt32() & Vector128.Create(0x7FFF_FFFF)).AsSingle());

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V128 SignBit(V128 x) => new((x.Value.AsInt32() & Vector128.Create(unchecked((int)0x8000_0000))).AsSingle());

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V128 Or(V128 a, V128 b) => new(a.Value | b.Value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V128 Xor(V128 a, V128 b) => new(a.Value ^ b.Value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V128 ShiftBitsLeft23(V128 x) => new(Vector128.ShiftLeft(x.Value.AsInt32(), 23).AsSingle());
}
