namespace Lstm.Simd.QuantizedKernels;

/// <summary>Argument checks of the quantized kernels' public entries; messages name the argument and both sizes.</summary>
internal static class QuantCheck
{
    public static void Length<T>(ReadOnlySpan<T> span, long expected, string name, long rows, long cols = -1)
    {
        if (span.Length != expected)
        {
            string shape = cols < 0 ? $"[{rows}]" : $"[{rows}, {cols}]";
            throw new ArgumentException($"{name} has length {span.Length}; expected {expected} for shape {shape}.", name);
        }
    }

    public static void Format(WeightFormat format, string name)
    {
        if (format is not (WeightFormat.Float16 or WeightFormat.BFloat16))
        {
            throw new ArgumentOutOfRangeException(name, format, $"{name} is {format}; a 16-bit matrix is {WeightFormat.Float16} or {WeightFormat.BFloat16}.");
        }
    }
}
