using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Lstm.Simd.Vectors;

/// <summary>A <c>Vector512&lt;float&gt;</c> seen through <see cref="IVec{TSelf}"/>.</summary>
internal readonly struct V512(Vector512<float> value) : IVec<V512>
{
    public readonly Vector512<float> Value = value;

    public static int Count => Vector512<float>.Count;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V512 Load(ref float source, nuint index) => new(Vector512.LoadUnsafe(ref source, index));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(V512 value, ref float destination, nuint index) => value.Value.StoreUnsafe(ref destination, index);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V512 Create(float value) => new(Vector512.Create(value));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V512 operator +(V512 a, V512 b) => new(a.Value + b.Value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V512 operator -(V512 a, V512 b) => new(a.Value - b.Value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V512 operator *(V512 a, V512 b) => new(a.Value * b.Value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V512 operator /(V512 a, V512 b) => new(a.Value / b.Value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V512 Fma(V512 a, V512 b, V512 c) => new(Avx512F.FusedMultiplyAdd(a.Value, b.Value, c.Value));

    // maxps/minps (x86 intrinsics, so that net8.0 has them too), which return the second operand when either is NaN.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V512 MaxKeepNaN(V512 bound, V512 x) => new(Avx512F.Max(bound.Value, x.Value));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V512 MinKeepNaN(V512 bound, V512 x) => new(Avx512F.Min(bound.Value, x.Value));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V512 LessThan(V512 a, V512 b) => new(Vector512.LessThan(a.Value, b.Value));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V512 Select(V512 mask, V512 ifTrue, V512 ifFalse) => new(Vector512.ConditionalSelect(mask.Value, ifTrue.Value, ifFalse.Value));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V512 Abs(V512 x) => new((x.Value.AsInt32() & Vector512.Create(0x7FFF_FFFF)).AsSingle());

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V512 SignBit(V512 x) => new((x.Value.AsInt32() & Vector512.Create(unchecked((int)0x8000_0000))).AsSingle());

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V512 Or(V512 a, V512 b) => new(a.Value | b.Value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V512 Xor(V512 a, V512 b) => new(a.Value ^ b.Value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V512 ShiftBitsLeft23(V512 x) => new(Vector512.ShiftLeft(x.Value.AsInt32(), 23).AsSingle());
}
