using System.Buffers;

namespace Lstm.Core;

/// <summary>
/// Where a sequence pass gets its large buffers: new arrays (a trace from <see cref="RecurrentNetwork.CreateTrace"/>
/// owns them and every pass into it reuses them), or arrays borrowed from the shared pool, because fresh
/// multi-megabyte arrays per call cost more in page faults than the arithmetic at small H. Borrowed arrays may be
/// longer than asked for and hold old values; <see cref="ReturnAll"/> gives them back at the end of an inference pass,
/// or when a pooled training trace is disposed. Which one a pass uses changes no value.
/// </summary>
internal sealed class BufferSource(bool pooled)
{
    private readonly List<float[]> borrowed = [];

    /// <summary>The arrays a pass allocates and owns: every <see cref="Get"/> is a new array.</summary>
    public static BufferSource Owned => new(pooled: false);

    /// <summary>Borrowed from <see cref="ArrayPool{T}.Shared"/> until <see cref="ReturnAll"/>.</summary>
    public static BufferSource Pooled => new(pooled: true);

    public float[] Get(int length)
    {
        if (!pooled)
        {
            return new float[length];
        }
        float[] a = ArrayPool<float>.Shared.Rent(length);
        borrowed.Add(a);
        return a;
    }

    public void ReturnAll()
    {
        foreach (float[] a in borrowed) ArrayPool<float>.Shared.Return(a);
        borrowed.Clear();
    }
}
