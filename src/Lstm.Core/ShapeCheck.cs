namespace Lstm.Core;

/// <summary>
/// Shape checks whose messages name the argument, the expected shape and the actual length. The shapes are spans, so
/// a check that passes allocates nothing (training steps and stream steps run them every time).
/// </summary>
internal static class ShapeCheck
{
    public static void Exact(ReadOnlySpan<float> span, string name, params ReadOnlySpan<int> shape)
    {
        long expected = 1;
        foreach (int d in shape) expected *= d;
        if (span.Length != expected)
        {
            throw new ArgumentException($"{name} has {span.Length} elements; expected shape [{string.Join(", ", shape.ToArray())}] = {expected} elements.", name);
        }
    }

    public static void ExactOrEmpty(ReadOnlySpan<float> span, string name, params ReadOnlySpan<int> shape)
    {
        if (!span.IsEmpty)
        {
            Exact(span, name, shape);
        }
    }

    /// <summary>
    /// The element count of a buffer sized by the product of <paramref name="dims"/>, or a clear error (before anything
    /// is allocated) when it exceeds the largest .NET array.
    /// </summary>
    public static int Elements(string name, string what, params ReadOnlySpan<long> dims)
    {
        long n = 1;
        foreach (long d in dims)
        {
            n = d == 0 || n <= Array.MaxLength / d ? n * d : long.MaxValue;
        }
        if (n > Array.MaxLength)
        {
            throw new ArgumentOutOfRangeException(name,
                $"{what} [{string.Join(", ", dims.ToArray())}] needs more than {Array.MaxLength:N0} elements, the largest .NET array; use fewer steps or a smaller batch.");
        }
        return (int)n;
    }

    public static void NonNegative(int value, string name)
    {
        if (value < 0)
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be ≥ 0.");
        }
    }
}
