namespace Lstm.Simd.QuantizedKernels;

/// <summary>float ↔ 16-bit weight conversions (round to nearest even), shared by packing and the scalar twin.</summary>
internal static class HalfBits
{
    public static ushort FromSingle(float value, WeightFormat format)
    {
        if (format == WeightFormat.Float16)
        {
            return BitConverter.HalfToUInt16Bits((Half)value);
        }
        uint bits = BitConverter.SingleToUInt32Bits(value);
        // Round to nearest even at bit 16: add 0x7FFF plus the lowest kept bit, then truncate (finite inputs only).
        bits += 0x7FFFu + ((bits >> 16) & 1u);
        return (ushort)(bits >> 16);
    }

    public static float ToSingle(ushort bits, WeightFormat format) => format == WeightFormat.Float16
        ? (float)BitConverter.UInt16BitsToHalf(bits)
        : BitConverter.UInt32BitsToSingle((uint)bits << 16);

    /// <summary>Whether <paramref name="bits"/> is ±infinity or NaN in <paramref name="format"/>.</summary>
    public static bool IsNonFinite(ushort bits, WeightFormat format) => format == WeightFormat.Float16
        ? (bits & 0x7C00) == 0x7C00
        : (bits & 0x7F80) == 0x7F80;
}
