using Lstm.Simd;

namespace Lstm.Core;

/// <summary>One layer in one direction, packed for the kernels: W_ih with b_ih + b_hh folded in, W_hh, peepholes.</summary>
internal sealed class PackedLayer
{
    /// <summary>Packs the layer's float32 parameters in <paramref name="format"/>; <paramref name="loaded"/> gives W_ih and W_hh already packed (a saved file's).</summary>
    public PackedLayer(RecurrentOptions o, ParameterSet p, int layer, int direction, WeightFormat format = WeightFormat.Float32,
        Func<float[], (GateWeights Input, GateWeights Recurrent)>? loaded = null)
    {
        int gh = o.Gates * o.HiddenSize;
        float[] bias = new float[gh];
        float[] bih = p.Get(layer, direction, ParameterRole.BiasIh), bhh = p.Get(layer, direction, ParameterRole.BiasHh);
        for (int i = 0; i < gh; i++)
        {
            bias[i] = bih[i] + bhh[i];
        }
        if (o.Cell == CellKind.Gru)
        {
            // r multiplies only the recurrent part of n, so b_hn cannot join b_in: the n block keeps b_in alone.
            int h = o.HiddenSize;
            bih.AsSpan(2 * h, h).CopyTo(bias.AsSpan(2 * h));
            HiddenBias = bhh.AsSpan(2 * h, h).ToArray();
        }
        Bias = bias;
        options = o;
        (InputWeights, RecurrentWeights) = loaded?.Invoke(bias) ?? (
            GateWeights.Pack(p.Get(layer, direction, ParameterRole.WeightIh), gh, o.LayerInputSize(layer), format, bias),
            GateWeights.Pack(p.Get(layer, direction, ParameterRole.WeightHh), gh, o.HiddenSize, format));
        Peepholes = o.Peepholes ? (float[])p.Get(layer, direction, ParameterRole.Peephole).Clone() : [];
        if (o.Cell == CellKind.Gru && !o.LinearBeforeReset)
        {
            // The candidate's recurrent GEMM runs on r⊙h' after the r, z one: W_hh's rows split in two (same values).
            ResetGateWeights = RecurrentWeights.Units(1, gh, 0, 2 * o.HiddenSize, default);
            CandidateWeights = RecurrentWeights.Units(1, gh, 2 * o.HiddenSize, o.HiddenSize, default);
        }
    }

    /// <summary>GRU: b_hn [H], added to the recurrent product of the n block inside the cell; else empty.</summary>
    public float[] HiddenBias { get; } = [];

    /// <summary>GRU with linear_before_reset = 0: rows r, z of W_hh [2H, H]; else null.</summary>
    public GateWeights? ResetGateWeights { get; }

    /// <summary>GRU with linear_before_reset = 0: rows n of W_hh [H, H], applied to r⊙h'; else null.</summary>
    public GateWeights? CandidateWeights { get; }

    private readonly RecurrentOptions options;
    // One split per thread count asked for, so that streams of 2 and 3 threads sharing this layer each find theirs.
    // Copy-on-write: readers scan an immutable array without locking or allocating; a miss adds an entry with a CAS.
    private KeyValuePair<int, Threading.HiddenSlice[]>[] slices = [];

    /// <summary>b_ih + b_hh, [G·H].</summary>
    public float[] Bias { get; }

    /// <summary>
    /// The layer split by hidden units for <paramref name="parts"/> threads (possibly fewer slices when H is small),
    /// made on first use and kept for every count asked for; the layer is replaced whenever its parameters change.
    /// </summary>
    public Threading.HiddenSlice[] Slices(int parts)
    {
        KeyValuePair<int, Threading.HiddenSlice[]>[] known = Volatile.Read(ref slices);
        foreach (KeyValuePair<int, Threading.HiddenSlice[]> entry in known)
        {
            if (entry.Key == parts)
            {
                return entry.Value;
            }
        }
        Threading.HiddenSlice[] made = Threading.HiddenSlice.Split(options, this, InputWeights.Columns, parts);
        while (true)
        {
            foreach (KeyValuePair<int, Threading.HiddenSlice[]> entry in known)
            {
                if (entry.Key == parts)
                {
                    return entry.Value; // another thread added it meanwhile: everyone shares its instances
                }
            }
            KeyValuePair<int, Threading.HiddenSlice[]>[] grown = [.. known, new(parts, made)];
            KeyValuePair<int, Threading.HiddenSlice[]>[] seen = Interlocked.CompareExchange(ref slices, grown, known);
            if (ReferenceEquals(seen, known))
            {
                return made;
            }
            known = seen;
        }
    }

    /// <summary>[G·H, in] with bias b_ih + b_hh: the input projection of all steps in one GEMM.</summary>
    public GateWeights InputWeights { get; }

    /// <summary>[G·H, H]: one GEMM per step.</summary>
    public GateWeights RecurrentWeights { get; }

    /// <summary>[3H] or empty.</summary>
    public float[] Peepholes { get; }
}
