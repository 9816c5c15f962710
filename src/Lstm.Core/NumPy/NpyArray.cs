namespace Lstm.Core.NumPy;

/// <summary>An array read from a NumPy <c>.npy</c> file: its dtype as written, its shape, and its values widened to double (exactly).</summary>
public sealed class NpyArray(string dtype, int[] shape, double[] data)
{
    /// <summary>NumPy's descr, for example <c>&lt;f4</c>.</summary>
    public string DType { get; } = dtype;

    public int[] Shape { get; } = shape;

    public double[] Data { get; } = data;

    /// <summary>The values as float32 (exact for arrays that were float32).</summary>
    public float[] ToSingle() => Array.ConvertAll(Data, v => (float)v);

    public string ShapeText => "[" + string.Join(", ", Shape) + "]";
}
