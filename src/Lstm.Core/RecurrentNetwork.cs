using Lstm.Simd;

namespace Lstm.Core;

/// <summary>
/// A stack of LSTM (or GRU, or Elman RNN) layers with PyTorch <c>nn.LSTM</c> / <c>nn.GRU</c> / <c>nn.RNN</c> semantics. Parameters are kept
/// by name (<see cref="ParameterInfos"/>) and packed for the kernels whenever they are set, never per call. Forward,
/// streaming steps and backward only read the packed weights, so one network may serve many threads at once as long
/// as no thread sets parameters meanwhile.
/// </summary>
public sealed partial class RecurrentNetwork
{
    private readonly ParameterSet parameters;
    private readonly PackedLayer[] packed; // [layer·D + dir]

    private RecurrentNetwork(RecurrentOptions options, ParameterSet parameters, SimdPath? path, WeightFormat format = WeightFormat.Float32,
        Func<int, int, float[], (GateWeights, GateWeights)>? loaded = null)
    {
        Options = options;
        this.parameters = parameters;
        Path = SimdPaths.Resolve(path);
        WeightFormat = format;
        packed = new PackedLayer[options.Layers * options.Directions];
        for (int i = 0; i < packed.Length; i++)
        {
            int layer = i / options.Directions, dir = i % options.Directions;
            packed[i] = new PackedLayer(options, parameters, layer, dir, format, loaded is null ? null : bias => loaded(layer, dir, bias));
        }
        ReleaseFloatWeightsUnlessFloat32();
    }

    public RecurrentOptions Options { get; }

    /// <summary>
    /// Off by default: NaN and infinity propagate like any float, at no cost. On, <see cref="Forward(ReadOnlySpan{float}, int, int, ReadOnlySpan{float}, ReadOnlySpan{float})"/>,
    /// <see cref="ForwardTraining"/> and <see cref="Step"/> check their inputs and every h and c they make, and throw
    /// <see cref="NonFiniteValueException"/> naming the tensor, layer, direction, step, batch row and unit of the first
    /// non-finite value. Set it before sharing the network between threads.
    /// </summary>
    public bool CheckFinite { get; set; }

    /// <summary>The kernel path this network runs on.</summary>
    public SimdPath Path { get; }

    /// <summary>The parameter names and shapes, in PyTorch's <c>state_dict</c> order.</summary>
    public IReadOnlyList<ParameterInfo> ParameterInfos => parameters.Infos;

    /// <summary>
    /// A network with every parameter drawn from U(-1/√H, 1/√H), as PyTorch initialises, from <paramref name="seed"/>
    /// by <see cref="Training.SeededRandom"/>: the same seed gives the same weights on every machine and .NET version.
    /// </summary>
    public static RecurrentNetwork Create(RecurrentOptions options, int seed, SimdPath? path = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var p = new ParameterSet(options);
        var rng = new Training.SeededRandom(seed);
        float bound = 1f / MathF.Sqrt(options.HiddenSize);
        foreach (ParameterInfo info in p.Infos)
        {
            float[] v = p[info.Name];
            for (int i = 0; i < v.Length; i++)
            {
                v[i] = (float)(((rng.NextDouble() * 2) - 1) * bound);
            }
        }
        return new RecurrentNetwork(options, p, path);
    }

    /// <summary>A network whose parameters all come from <paramref name="values"/> (every name, nothing extra).</summary>
    public static RecurrentNetwork FromParameters(RecurrentOptions options, IReadOnlyDictionary<string, float[]> values, SimdPath? path = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(values);
        return new RecurrentNetwork(options, ToParameterSet(options, values), path);
    }

    private static ParameterSet ToParameterSet(RecurrentOptions options, IReadOnlyDictionary<string, float[]> values)
    {
        var p = new ParameterSet(options);
        var missing = p.Infos.Where(i => !values.ContainsKey(i.Name)).Select(i => i.Name).ToList();
        var extra = values.Keys.Where(k => !p.Contains(k)).ToList();
        if (missing.Count > 0 || extra.Count > 0)
        {
            throw new ArgumentException($"Parameters do not match the network: missing [{string.Join(", ", missing)}], unexpected [{string.Join(", ", extra)}].", nameof(values));
        }
        foreach (ParameterInfo info in p.Infos)
        {
            ShapeCheck.Exact(values[info.Name], info.Name, info.Shape);
            values[info.Name].CopyTo(p[info.Name], 0);
        }
        return p;
    }

    /// <summary>A copy of the parameter named <paramref name="name"/>.</summary>
    public float[] GetParameter(string name) => StoredWeights(name) ?? (float[])parameters[name].Clone();

    /// <summary>Sets one parameter and repacks its layer and direction. Not safe while another thread runs the network.</summary>
    public void SetParameter(string name, ReadOnlySpan<float> values)
    {
        ThrowUnlessFloat32(nameof(SetParameter));
        ParameterInfo info = parameters.Infos[parameters.IndexOf(name)];
        ShapeCheck.Exact(values, nameof(values), info.Shape);
        values.CopyTo(parameters[name]);
        packed[(info.Layer * Options.Directions) + info.Direction] = new PackedLayer(Options, parameters, info.Layer, info.Direction);
    }

    /// <summary>A zeroed set of gradient tensors for this network, for <see cref="Backward"/> to accumulate into.</summary>
    public ParameterSet CreateGradients() => new(Options);

    /// <summary>
    /// Lets <paramref name="update"/> change the live parameter tensors (an optimizer step, a load), then repacks every
    /// layer once. Not safe while another thread runs the network.
    /// </summary>
    public void UpdateParameters(Action<ParameterSet> update)
    {
        ArgumentNullException.ThrowIfNull(update);
        ThrowUnlessFloat32(nameof(UpdateParameters));
        update(parameters);
        RepackAll();
    }

    internal PackedLayer Packed(int layer, int dir) => packed[(layer * Options.Directions) + dir];

    private void RepackAll()
    {
        for (int i = 0; i < packed.Length; i++)
        {
            packed[i] = new PackedLayer(Options, parameters, i / Options.Directions, i % Options.Directions);
        }
    }
}
