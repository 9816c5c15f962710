namespace Lstm.Simd;

/// <summary>Argument checks shared by the kernels' public entries; messages name the argument and both sizes.</summary>
internal static class Check
{
    public static void SameLength(ReadOnlySpan<float> a, string aName, ReadOnlySpan<float> b, string bName)
    {
        if (a.Length != b.Length)
        {
            throw new ArgumentException($"{bName} has length {b.Length}; expected {a.Length}, the length of {aName}.", bName);
        }
    }

    // The shape text is built only when the check fails: these run on every streaming step, which must not allocate.
    public static void Length(ReadOnlySpan<float> span, long expected, string name, long rows, long cols = -1)
    {
        if (span.Length != expected)
        {
            throw new ArgumentException($"{name} has length {span.Length}; expected {expected} for shape {Shape(rows, cols)}.", name);
        }
    }

    public static void AtLeast(ReadOnlySpan<float> span, long expected, string name, long rows, long cols, long stride)
    {
        if (span.Length < expected)
        {
            string strided = stride == cols ? "" : $" with row stride {stride}";
            throw new ArgumentException($"{name} has length {span.Length}; expected at least {expected} for shape {Shape(rows, cols)}{strided}.", name);
        }
    }

    /// <summary>A row-major matrix view: <paramref name="ld"/> ≥ <paramref name="cols"/> and enough elements for the last row.</summary>
    public static void Matrix(ReadOnlySpan<float> span, int rows, int cols, int ld, string name)
    {
        NonNegative(rows, "m");
        if (ld < cols)
        {
            throw new ArgumentOutOfRangeException(name, ld, $"The row stride of {name} is {ld}; expected at least {cols}, its column count.");
        }
        long needed = rows == 0 ? 0 : ((long)(rows - 1) * ld) + cols;
        AtLeast(span, needed, name, rows, cols, ld);
    }

    private static string Shape(long rows, long cols) => cols < 0 ? $"[{rows}]" : $"[{rows}, {cols}]";

    public static void NonNegative(int value, string name)
    {
        if (value < 0)
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be ≥ 0.");
        }
    }

    public static void InPlaceOrDisjoint(ReadOnlySpan<float> x, string xName, ReadOnlySpan<float> y, string yName)
    {
        if (x.Overlaps(y, out int offset) && offset != 0)
        {
            throw new ArgumentException($"{yName} overlaps {xName} at offset {offset}; it must be the same span (in place) or disjoint.", yName);
        }
    }

    public static void Disjoint(ReadOnlySpan<float> x, string xName, ReadOnlySpan<float> y, string yName)
    {
        if (!x.IsEmpty && !y.IsEmpty && x.Overlaps(y))
        {
            throw new ArgumentException($"{yName} overlaps {xName}; this kernel needs them disjoint.", yName);
        }
    }
}
