namespace Lstm.Core;

/// <summary>Shape checks whose messages name the argument, the expected shape and the actual length.</summary>
internal static class ShapeCheck
{
    public static void Exact(ReadOnlySpan<float> span, string name, params int[] shape)
    {
        long expected = 1;
        foreach (int d in shape) expected *= d;
        if (span.Length != expected)
        {
            throw new ArgumentException($"{name} has {span.Length} elements; expected shape [{string.Join(", ", shape)}] = {expected} elements.", name);
        }
    }

    public static void ExactOrEmpty(ReadOnlySpan<float> span, string name, params int[] shape)
    {
        if (!span.IsEmpty)
        {
            Exact(span, name, shape);
        }
    }

    public static void NonNegative(int value, string name)
    {
        if (value < 0)
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be ≥ 0.");
        }
    }
}
