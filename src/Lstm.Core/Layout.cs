namespace Lstm.Core;

/// <summary>Copies between batch-first [B, T, F] and time-major [T, B, F].</summary>
internal static class Layout
{
    public static void Transpose01(ReadOnlySpan<float> source, int d0, int d1, int features, Span<float> destination)
    {
        for (int i = 0; i < d0; i++)
        {
            for (int j = 0; j < d1; j++)
            {
                source.Slice(((i * d1) + j) * features, features).CopyTo(destination.Slice(((j * d0) + i) * features, features));
            }
        }
    }

    public static void ToTimeMajor(ReadOnlySpan<float> x, int steps, int batch, int features, bool batchFirst, Span<float> result)
    {
        if (batchFirst)
        {
            Transpose01(x, batch, steps, features, result);
        }
        else
        {
            x.CopyTo(result);
        }
    }

    /// <summary>x itself when it is already in the result's layout (time-major), else a batch-first copy.</summary>
    public static float[] FromTimeMajor(float[] x, int steps, int batch, int features, bool batchFirst)
    {
        if (!batchFirst)
        {
            return x;
        }
        float[] result = new float[steps * batch * features]; // x may be a longer pooled array
        FromTimeMajor(x, steps, batch, features, batchFirst, result);
        return result;
    }

    public static void FromTimeMajor(float[] x, int steps, int batch, int features, bool batchFirst, Span<float> destination)
    {
        if (batchFirst)
        {
            Transpose01(x, steps, batch, features, destination);
        }
        else
        {
            x.AsSpan(0, steps * batch * features).CopyTo(destination);
        }
    }
}
