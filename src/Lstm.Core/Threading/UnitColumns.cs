using Lstm.Simd;

namespace Lstm.Core.Threading;

/// <summary>
/// Columns [Start, Start + Count) of W_hh [G·H, H], packed on their own as [G·H, Count]: the share of
/// dh_{t-1} = dG_t·W_hh that one thread computes in a backward pass split by hidden units, so that each core keeps its
/// part of W_hh in its own L2 across steps. Each output is the same FMA chain over the G·H gate rows as in the whole
/// product (the kernel chains over rows, column by column), so the split is bitwise equal to one thread's.
/// </summary>
internal sealed class UnitColumns
{
    private UnitColumns(int start, int count, PackedMatrix weights)
    {
        Start = start;
        Count = count;
        Weights = weights;
    }

    public int Start { get; }

    public int Count { get; }

    /// <summary>[G·H, Count], with its backward panels packed (the only ones read).</summary>
    public PackedMatrix Weights { get; }

    /// <summary>At the unit boundaries of <see cref="HiddenSlice.Split"/>.</summary>
    public static UnitColumns[] Split(RecurrentOptions o, PackedMatrix recurrent, int parts)
    {
        int h = o.HiddenSize, rows = o.Gates * h, chunk = HiddenSlice.Chunk(h, parts);
        float[] all = new float[rows * h], part = new float[rows * chunk];
        recurrent.CopyWeightsTo(all);
        var slices = new List<UnitColumns>();
        for (int start = 0; start < h; start += chunk)
        {
            int count = Math.Min(chunk, h - start);
            slices.Add(new UnitColumns(start, count, PackedMatrix.Pack(Gather(all, rows, h, start, count, part), rows, count, forBackward: true)));
        }
        return [.. slices];
    }

    /// <summary>Packs these columns of new W_hh values in place (<paramref name="gather"/>: at least G·H × Count).</summary>
    internal void Refresh(RecurrentOptions o, ReadOnlySpan<float> whh, Span<float> gather) =>
        Weights.Repack(Gather(whh, o.Gates * o.HiddenSize, o.HiddenSize, Start, Count, gather));

    private static ReadOnlySpan<float> Gather(ReadOnlySpan<float> all, int rows, int h, int start, int count, Span<float> into)
    {
        for (int r = 0; r < rows; r++)
        {
            all.Slice((r * h) + start, count).CopyTo(into[(r * count)..]);
        }
        return into[..(rows * count)];
    }
}
