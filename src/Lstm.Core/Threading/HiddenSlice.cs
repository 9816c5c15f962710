using Lstm.Simd;

namespace Lstm.Core.Threading;

/// <summary>
/// The hidden units [Start, Start + Count) of one layer-direction and their packed weight rows, so that one thread
/// keeps its slice of W_ih and W_hh in its own L2 cache across steps. Gates come out as [rows, G·Count] in the
/// order i, f, g, o of this slice, which the cell kernels take directly (hidden = Count). Every output column is the
/// same FMA chain as in the whole matrix, so a split run is bitwise equal to one thread's.
/// </summary>
internal sealed class HiddenSlice
{
    private HiddenSlice(RecurrentOptions o, PackedLayer layer, int start, int count)
    {
        int h = o.HiddenSize, gates = o.Gates;
        Start = start;
        Count = count;
        float[] sb = new float[gates * count];
        for (int g = 0; g < gates; g++)
        {
            Array.Copy(layer.Bias, (g * h) + start, sb, g * count, count);
        }
        InputWeights = layer.InputWeights.Units(gates, h, start, count, sb);
        RecurrentWeights = layer.RecurrentWeights.Units(gates, h, start, count, default);
        float[] peepholes = layer.Peepholes;
        Peepholes = peepholes.Length == 0 ? [] : [.. peepholes.AsSpan(start, count), .. peepholes.AsSpan(h + start, count), .. peepholes.AsSpan((2 * h) + start, count)];
        HiddenBias = layer.HiddenBias.Length == 0 ? [] : layer.HiddenBias.AsSpan(start, count).ToArray();
        ResetGateWeights = layer.ResetGateWeights?.Units(2, h, start, count, default);
        CandidateWeights = layer.CandidateWeights?.Units(1, h, start, count, default);
    }

    /// <summary>GRU with linear_before_reset = 0: this slice's rows r, z of W_hh [2·Count, H]; else null.</summary>
    public GateWeights? ResetGateWeights { get; }

    /// <summary>GRU with linear_before_reset = 0: this slice's rows n of W_hh [Count, H], applied to all of r⊙h'; else null.</summary>
    public GateWeights? CandidateWeights { get; }

    /// <summary>GRU: b_hn of these units [Count]; else empty.</summary>
    public float[] HiddenBias { get; }

    public int Start { get; }

    public int Count { get; }

    /// <summary>[G·Count, in] with the bias folded in.</summary>
    public GateWeights InputWeights { get; }

    /// <summary>[G·Count, H].</summary>
    public GateWeights RecurrentWeights { get; }

    /// <summary>[3·Count] (i, f, o) or empty.</summary>
    public float[] Peepholes { get; }

    /// <summary>
    /// Splits H units into at most <paramref name="parts"/> contiguous slices, in multiples of 16 units where H allows
    /// (whole 64-column panels of gates per slice), never an empty one.
    /// </summary>
    public static HiddenSlice[] Split(RecurrentOptions o, PackedLayer layer, int inSize, int parts)
    {
        int h = o.HiddenSize;
        int chunk = (h + parts - 1) / parts;
        if (h >= 16 * parts)
        {
            chunk = (chunk + 15) / 16 * 16;
        }
        var slices = new List<HiddenSlice>();
        for (int start = 0; start < h; start += chunk)
        {
            slices.Add(new HiddenSlice(o, layer, start, Math.Min(chunk, h - start)));
        }
        return [.. slices];
    }
}
