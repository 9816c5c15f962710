using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Lstm.Simd.Vectors;

/// <summary>A <c>Vector256&lt;float&gt;</c> seen through <see cref="IVec{TSelf}"/>.</summary>
internal readonly struct V256(Vector256<float> value) : IVec<V256>
{
    public readonly Vector256<float> Value = value;

    public static int Count => Vector256<float>.Count;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V256 Load(ref float source, nuint index) => new(Vector256.LoadUnsafe(ref source, index));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(V256 value, ref float destination, nuint index) => value.Value.StoreUnsafe(ref destination, index);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V256 Create(float value) => new(Vector256.Create(value));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V256 operator +(V256 a, V256 b) => new(a.Value + b.Value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V256 operator -(V256 a, V256 b) => new(a.Value - b.Value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V256 operator *(V256 a, V256 b) => new(a.Value * b.Value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V256 operator /(V256 a, V256 b) => new(a.Value / b.Value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V256 Fma(V256 a, V256 b, V256 c) => new(System.Runtime.Intrinsics.X86.Fma.MultiplyAdd(a.Value, b.Value, c.Value));

    // maxps/minps (x86 intrinsics, so that net8.0 has them too), which return the second operand when either is NaN.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V256 MaxKeepNaN(V256 bound, V256 x) => new(Avx.Max(bound.Value, x.Value));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V256 MinKeepNaN(V256 bound, V256 x) => new(Avx.Min(bound.Value, x.Value));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V256 LessThan(V256 a, V256 b) => new(Vector256.LessThan(a.Value, b.Value));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V256 Select(V256 mask, V256 ifTrue, V256 ifFalse) => new(Vector256.ConditionalSelect(mask.Value, ifTrue.Value, ifFalse.Value));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V256 Abs(V256 x) => new((x.Value.AsInt32() & Vector256.Create(0x7FFF_FFFF)).AsSingle());

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V256 SignBit(V256 x) => new((x.Value.AsInt32() & Vector256.Create(unchecked((int)0x8000_0000))).AsSingle());

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V256 Or(V256 a, V256 b) => new(a.Value | b.Value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V256 Xor(V256 a, V256 b) => new(a.Value ^ b.Value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V256 ShiftBitsLeft23(V256 x) => new(Vector256.ShiftLeft(x.Value.AsInt32(), 23).AsSingle());
}
