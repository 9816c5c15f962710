using Lstm.Core;

namespace Lstm.Onnx;

/// <summary>
/// ONNX's gate orders against Lstm.Core's (PyTorch's): LSTM i, o, f, c against i, f, g, o; GRU z, r, h against r, z, n;
/// peepholes i, o, f against i, f, o. Blocks of H rows move whole; nothing inside a block changes.
/// </summary>
internal static class OnnxGates
{
    /// <summary>For each of our gate blocks, the ONNX block it is.</summary>
    public static int[] OursFromOnnx(CellKind cell) => cell switch
    {
        CellKind.Lstm => [0, 2, 3, 1], // i ← i, f ← f (onnx 2), g ← c (onnx 3), o ← o (onnx 1)
        CellKind.Gru => [1, 0, 2],     // r ← r (onnx 1), z ← z (onnx 0), n ← h
        _ => [0],
    };

    /// <summary>Peepholes: ours i, f, o from ONNX's i, o, f.</summary>
    public static readonly int[] PeepholesOursFromOnnx = [0, 2, 1];

    /// <summary>Our rows from ONNX's: <paramref name="source"/> holds blocks of <paramref name="blockLength"/> values in ONNX's order.</summary>
    public static float[] ToOurs(ReadOnlySpan<float> source, int[] oursFromOnnx, int blockLength)
    {
        float[] ours = new float[source.Length];
        for (int j = 0; j < oursFromOnnx.Length; j++)
        {
            source.Slice(oursFromOnnx[j] * blockLength, blockLength).CopyTo(ours.AsSpan(j * blockLength));
        }
        return ours;
    }

    /// <summary>ONNX's rows from ours: the inverse of <see cref="ToOurs"/>.</summary>
    public static float[] ToOnnx(ReadOnlySpan<float> ours, int[] oursFromOnnx, int blockLength)
    {
        float[] onnx = new float[ours.Length];
        for (int j = 0; j < oursFromOnnx.Length; j++)
        {
            ours.Slice(j * blockLength, blockLength).CopyTo(onnx.AsSpan(oursFromOnnx[j] * blockLength));
        }
        return onnx;
    }
}
