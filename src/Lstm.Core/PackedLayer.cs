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
        if (o.Bias) // else zero: bias=False packs the same kernels with a zero bias
        {
            float[] bih = p.Get(layer, direction, ParameterRole.BiasIh), bhh = p.Get(layer, direction, ParameterRole.BiasHh);
            for (int i = 0; i < gh; i++)
            {
                bias[i] = bih[i] + bhh[i];
            }
        }
        Bias = bias;
        options = o;
        (InputWeights, RecurrentWeights) = loaded?.Invoke(bias) ?? (
            GateWeights.Pack(p.Get(layer, direction, ParameterRole.WeightIh), gh, o.LayerInputSize(layer), format, bias),
            GateWeights.Pack(p.Get(layer, direction, ParameterRole.WeightHh), gh, o.HiddenStateSize, format));
        Peepholes = o.Peepholes ? (float[])p.Get(layer, direction, ParameterRole.Peephole).Clone() : [];
        // float32 in every weight format, as the biases and peepholes: only W_ih and W_hh take the reduced formats.
        Projection = o.ProjectionSize > 0 ? PackedMatrix.Pack(p.Get(layer, direction, ParameterRole.Projection), o.ProjectionSize, o.HiddenSize) : null;
    }

    /// <summary>W_hr [P, H] with projections (h = W_hr·(o ⊙ tanh c)); else null.</summary>
    public PackedMatrix? Projection { get; }

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
