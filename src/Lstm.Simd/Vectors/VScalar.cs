using System.Runtime.CompilerServices;

namespace Lstm.Simd.Vectors;

/// <summary>One float: the scalar twin. Every operation rounds exactly as one lane of the vector paths does.</summary>
internal readonly struct VScalar(float value) : IVec<VScalar>
{

    public readonly float Value = value;

    public static int Count => 1;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static VScalar Load(ref float source, nuint index) => new(Unsafe.Add(ref source, index));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(VScalar value, ref float destination, nuint index) => Unsafe.Add(ref destination, index) = value.Value;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static VScalar Create(float value) => new(value);

    public static VScalar operator +(VScalar a, VScalar b) => new(a.Value + b.Value);

    public static VScalar operator -(VScalar a, VScalar b) => new(a.Value - b.Value);

    public static VScalar operator *(VScalar a, VScalar b) => new(a.Value * b.Value);

    public static VScalar operator /(VScalar a, VScalar b) => new(a.Value / b.Value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static VScalar Fma(VScalar a, VScalar b, VScalar c) => new(MathF.FusedMultiplyAdd(a.Value, b.Value, c.Value));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static VScalar MaxKeepNaN(VScalar bound, VScalar x) => new(bound.Value > x.Value ? bound.Value : x.Value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static VScalar MinKeepNaN(VScalar bound, VScalar x) => new(bound.Value < x.Value ? bound.Value : x.Value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static VScalar LessThan(VScalar a, VScalar b) => FromBits(a.Value < b.Value ? -1 : 0);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static VScalar Select(VScalar mask, VScalar ifTrue, VScalar ifFalse)
    {
        int m = Bits(mask);
        return FromBits((Bits(ifTrue) & m) | (Bits(ifFalse) & ~m));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static VScalar Abs(VScalar x) => FromBits(Bits(x) & 0x7FFF_FFFF);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static VScalar SignBit(VScalar x) => FromBits(Bits(x) & unchecked((int)0x8000_0000));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static VScalar Or(VScalar a, VScalar b) => FromBits(Bits(a) | Bits(b));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static VScalar Xor(VScalar a, VScalar b) => FromBits(Bits(a) ^ Bits(b));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static VScalar ShiftBitsLeft23(VScalar x) => FromBits(Bits(x) << 23);

    private static int Bits(VScalar x) => BitConverter.SingleToInt32Bits(x.Value);

    private static VScalar FromBits(int bits) => new(BitConverter.Int32BitsToSingle(bits));
}
