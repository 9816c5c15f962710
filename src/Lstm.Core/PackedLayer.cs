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
        if (o.Cell == CellKind.Gru)
        {
            HiddenBias = new float[o.HiddenSize];
        }
        FoldBias(o, p, layer, direction, bias, HiddenBias);
        Bias = bias;
        options = o;
        this.layer = layer;
        this.direction = direction;
        (InputWeights, RecurrentWeights) = loaded?.Invoke(bias) ?? (
            GateWeights.Pack(p.Get(layer, direction, ParameterRole.WeightIh), gh, o.LayerInputSize(layer), format, bias),
            GateWeights.Pack(p.Get(layer, direction, ParameterRole.WeightHh), gh, o.HiddenStateSize, format));
        Peepholes = o.Peepholes ? (float[])p.Get(layer, direction, ParameterRole.Peephole).Clone() : [];
        // float32 in every weight format, as the biases and peepholes: only W_ih and W_hh take the reduced formats.
        Projection = o.ProjectionSize > 0 ? PackedMatrix.Pack(p.Get(layer, direction, ParameterRole.Projection), o.ProjectionSize, o.HiddenSize) : null;
        if (o.Cell == CellKind.Gru && !o.LinearBeforeReset)
        {
            // The candidate's recurrent GEMM runs on r⊙h' after the r, z one: W_hh's rows split in two (same values).
            ResetGateWeights = RecurrentWeights.Units(1, gh, 0, 2 * o.HiddenSize, default);
            CandidateWeights = RecurrentWeights.Units(1, gh, 2 * o.HiddenSize, o.HiddenSize, default);
        }
    }

    /// <summary>GRU: b_hn [H], added to the recurrent product of the n block inside the cell; else empty.</summary>
    public float[] HiddenBias { get; } = [];  // refilled in place by Repack

    /// <summary>GRU with linear_before_reset = 0: rows r, z of W_hh [2H, H]; else null.</summary>
    public GateWeights? ResetGateWeights { get; }

    /// <summary>GRU with linear_before_reset = 0: rows n of W_hh [H, H], applied to r⊙h'; else null.</summary>
    public GateWeights? CandidateWeights { get; }

    /// <summary>W_hr [P, H] with projections (h = W_hr·(o ⊙ tanh c)); else null.</summary>
    public PackedMatrix? Projection { get; }

    private readonly RecurrentOptions options;
    private readonly int layer, direction;
    private float[]? gather; // rows (or columns) of the weights gathered for a slice's repack; made at the first, then kept
    // One split per thread count asked for, so that streams of 2 and 3 threads sharing this layer each find theirs.
    private KeyValuePair<int, Threading.HiddenSlice[]>[] slices = [];
    private KeyValuePair<int, Threading.UnitColumns[]>[] columns = [];

    /// <summary>b_ih + b_hh, [G·H].</summary>
    public float[] Bias { get; }

    /// <summary>
    /// The layer split by hidden units for <paramref name="parts"/> threads (possibly fewer slices when H is small),
    /// made on first use and kept for every count asked for; <see cref="Repack"/> refreshes them in place.
    /// </summary>
    public Threading.HiddenSlice[] Slices(int parts) =>
        Cached(ref slices, parts, this, static (layer, parts) => Threading.HiddenSlice.Split(layer.options, layer, layer.InputWeights.Columns, parts));

    /// <summary>
    /// W_hh split by columns for <paramref name="parts"/> threads, at the same unit boundaries as <see cref="Slices"/>: each
    /// thread's share of dh_{t-1} = dG_t·W_hh in a split backward pass. Made on first use, kept, refreshed by <see cref="Repack"/>.
    /// </summary>
    public Threading.UnitColumns[] RecurrentColumns(int parts) =>
        Cached(ref columns, parts, this, static (layer, parts) => Threading.UnitColumns.Split(layer.options, layer.RecurrentWeights.Float, parts));

    // Copy-on-write: readers scan an immutable array without locking or allocating; a miss adds an entry with a CAS.
    private static T[] Cached<T>(ref KeyValuePair<int, T[]>[] cache, int parts, PackedLayer layer, Func<PackedLayer, int, T[]> make)
    {
        KeyValuePair<int, T[]>[] known = Volatile.Read(ref cache);
        foreach (KeyValuePair<int, T[]> entry in known)
        {
            if (entry.Key == parts)
            {
                return entry.Value;
            }
        }
        T[] made = make(layer, parts);
        while (true)
        {
            foreach (KeyValuePair<int, T[]> entry in known)
            {
                if (entry.Key == parts)
                {
                    return entry.Value; // another thread added it meanwhile: everyone shares its instances
                }
            }
            KeyValuePair<int, T[]>[] grown = [.. known, new(parts, made)];
            KeyValuePair<int, T[]>[] seen = Interlocked.CompareExchange(ref cache, grown, known);
            if (ReferenceEquals(seen, known))
            {
                return made;
            }
            known = seen;
        }
    }

    /// <summary>
    /// Packs the float32 parameters' new values into this layer's own buffers and its thread slices' (so a stream or a
    /// team that looks its slices up again sees the new weights), allocating nothing once a repack has run: a training
    /// step's update. Not safe while another thread runs the network: a reader would see some old, some new weights.
    /// </summary>
    public void Repack(ParameterSet p)
    {
        if (!RepacksInPlace)
        {
            throw new InvalidOperationException("This layer cannot be repacked in place; make a new PackedLayer.");
        }
        FoldBias(options, p, layer, direction, Bias, HiddenBias);
        float[] wih = p.Get(layer, direction, ParameterRole.WeightIh), whh = p.Get(layer, direction, ParameterRole.WeightHh);
        InputWeights.Float.Repack(wih, Bias);
        RecurrentWeights.Float.Repack(whh);
        if (options.Peepholes)
        {
            p.Get(layer, direction, ParameterRole.Peephole).CopyTo(Peepholes, 0);
        }
        foreach (KeyValuePair<int, Threading.HiddenSlice[]> entry in Volatile.Read(ref slices))
        {
            foreach (Threading.HiddenSlice slice in entry.Value)
            {
                slice.Refresh(options, this, wih, whh, Gather());
            }
        }
        foreach (KeyValuePair<int, Threading.UnitColumns[]> entry in Volatile.Read(ref columns))
        {
            foreach (Threading.UnitColumns slice in entry.Value)
            {
                slice.Refresh(options, whh, Gather());
            }
        }
    }

    // Big enough for any slice's rows of W_ih or W_hh, or columns of W_hh.
    private float[] Gather() => gather ??= new float[options.Gates * options.HiddenSize * Math.Max(options.HiddenSize, InputWeights.Columns)];

    /// <summary>
    /// Whether <see cref="Repack"/> can refresh this layer in place: not with bias=False (no bias tensors to fold),
    /// projections (W_hr) or a reset-before-product GRU (its W_hh halves); those get a new packed layer instead.
    /// </summary>
    public bool RepacksInPlace => options.Bias && options.ProjectionSize == 0 && (options.Cell != CellKind.Gru || options.LinearBeforeReset);

    // b_ih + b_hh, as the input projection adds it once; a GRU's n block keeps b_in alone and b_hn apart (r multiplies
    // only the recurrent part of n). bias=False: zeros, the same kernels.
    private static void FoldBias(RecurrentOptions o, ParameterSet p, int layer, int direction, Span<float> bias, Span<float> hiddenBias)
    {
        if (!o.Bias)
        {
            bias.Clear();
            hiddenBias.Clear();
            return;
        }
        float[] bih = p.Get(layer, direction, ParameterRole.BiasIh), bhh = p.Get(layer, direction, ParameterRole.BiasHh);
        for (int i = 0; i < bias.Length; i++)
        {
            bias[i] = bih[i] + bhh[i];
        }
        if (o.Cell == CellKind.Gru)
        {
            int h = o.HiddenSize;
            bih.AsSpan(2 * h, h).CopyTo(bias[(2 * h)..]);
            bhh.AsSpan(2 * h, h).CopyTo(hiddenBias);
        }
    }

    /// <summary>[G·H, in] with bias b_ih + b_hh: the input projection of all steps in one GEMM.</summary>
    public GateWeights InputWeights { get; }

    /// <summary>[G·H, H]: one GEMM per step.</summary>
    public GateWeights RecurrentWeights { get; }

    /// <summary>[3H] or empty.</summary>
    public float[] Peepholes { get; }
}
