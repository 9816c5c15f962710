using System.Runtime.CompilerServices;

namespace Lstm.Simd.QuantizedKernels;

/// <summary>
/// Dynamic symmetric quantization of one activation row: scale = max|a| / 127, q = a / scale rounded to nearest
/// even, clamped to [−127, 127]. A row holding an infinity or NaN gets scale NaN (and q = 0), so every output of
/// that row is NaN; a zero row (or one whose scale underflows to 0) gets q = 0 and scale 0.
/// </summary>
internal static class ActivationQuantizer
{
    private const int NonFiniteBits = 0x7F80_0000;

    /// <summary>Writes q[0..K) and zeros up to <paramref name="q"/>'s end; returns the scale.</summary>
    public static float QuantizeRow(ref float a, int k, Span<sbyte> q)
    {
        // max |a| over the bit patterns: for non-negative floats integer order is float order, and an infinity or
        // NaN has the largest patterns, so one integer max finds both the scale and a non-finite value.
        int maxBits = 0;
        for (int i = 0; i < k; i++)
        {
            maxBits = Math.Max(maxBits, BitConverter.SingleToInt32Bits(Unsafe.Add(ref a, i)) & 0x7FFF_FFFF);
        }
        if (maxBits >= NonFiniteBits)
        {
            q.Clear();
            return float.NaN;
        }
        float scale = BitConverter.Int32BitsToSingle(maxBits) / 127f;
        if (scale == 0f)
        {
            q.Clear();
            return 0f;
        }
        for (int i = 0; i < k; i++)
        {
            q[i] = (sbyte)Math.Clamp(MathF.Round(Unsafe.Add(ref a, i) / scale), -127f, 127f);
        }
        q[k..].Clear();
        return scale;
    }
}
