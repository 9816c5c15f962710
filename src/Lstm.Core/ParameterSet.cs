namespace Lstm.Core;

/// <summary>
/// Named parameter (or gradient) tensors of one network, in <see cref="ParameterLayout"/> order, as flat row-major
/// float arrays. Gradients are accumulated into one of these by <see cref="RecurrentNetwork.Backward(TrainingTrace, ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, ParameterSet)"/>.
/// </summary>
public sealed class ParameterSet
{
    private readonly Dictionary<string, int> index;
    private readonly Dictionary<(int Layer, int Direction, ParameterRole Role), int> byRole;
    private readonly float[][] values;

    public ParameterSet(RecurrentOptions options)
    {
        Infos = ParameterLayout.For(options);
        index = Infos.Select((p, i) => (p.Name, i)).ToDictionary(t => t.Name, t => t.i, StringComparer.Ordinal);
        byRole = Infos.Select((p, i) => (p, i)).ToDictionary(t => (t.p.Layer, t.p.Direction, t.p.Role), t => t.i);
        values = Infos.Select(p => new float[p.Length]).ToArray();
    }

    /// <summary>The names and shapes, in order.</summary>
    public IReadOnlyList<ParameterInfo> Infos { get; }

    /// <summary>The tensor named <paramref name="name"/> (the live array, not a copy).</summary>
    public float[] this[string name] => values[IndexOf(name)];

    /// <summary>The tensor at position <paramref name="i"/> of <see cref="Infos"/> (<c>state_dict</c> order; the live array).</summary>
    public float[] this[int i] => values[i];

    // Looked up once per layer and direction whenever a network is packed or a backward pass begins: a scan made
    // loading quadratic in the layer count (L = 20,000: 13.5 s).
    internal float[] Get(int layer, int direction, ParameterRole role) => values[byRole[(layer, direction, role)]];

    /// <summary>The tensor, or empty when the network has none in that role (the biases of a bias=False network).</summary>
    internal float[] GetOrEmpty(int layer, int direction, ParameterRole role) =>
        byRole.TryGetValue((layer, direction, role), out int i) ? values[i] : [];

    /// <summary>Lets go of a tensor that lives elsewhere (a reduced-format network's packed weights); it reads as empty.</summary>
    internal void Release(int layer, int direction, ParameterRole role) =>
        values[Infos.Select((p, i) => (p, i)).First(t => t.p.Layer == layer && t.p.Direction == direction && t.p.Role == role).i] = [];

    /// <summary>Sets every element to 0.</summary>
    public void Clear()
    {
        foreach (float[] v in values) Array.Clear(v);
    }

    /// <summary>Whether <paramref name="name"/> is a parameter of this network.</summary>
    public bool Contains(string name) => index.ContainsKey(name);

    internal int IndexOf(string name) =>
        index.TryGetValue(name, out int i) ? i : throw new ArgumentException(
            $"Unknown parameter '{name}'; expected one of: {string.Join(", ", Infos.Select(p => p.Name))}.", nameof(name));
}
