namespace Lstm.Experiments;

/// <summary>Where the first NaN or infinity of a tensor is: training checks parameters before it saves or samples.</summary>
internal static class Finite
{
    /// <summary>The index of the first value that is NaN or ±∞, or -1 if all are finite.</summary>
    public static int FirstNonFinite(ReadOnlySpan<float> values)
    {
        for (int i = 0; i < values.Length; i++)
        {
            if (!float.IsFinite(values[i])) return i;
        }
        return -1;
    }

    /// <summary>"name[index] is value" for the first non-finite value among <paramref name="tensors"/>, or null.</summary>
    public static string? Describe(IEnumerable<KeyValuePair<string, float[]>> tensors)
    {
        foreach (var (name, values) in tensors)
        {
            int i = FirstNonFinite(values);
            if (i >= 0) return $"{name}[{i}] is {values[i]}";
        }
        return null;
    }
}
