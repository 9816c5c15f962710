namespace Lstm.Core.Reference;

/// <summary>
/// The plain double-precision reference: the same networks as <see cref="RecurrentNetwork"/>, written for clarity,
/// with no SIMD and no packing: one loop per equation, the equation beside it. Users check their own models with it.
/// Data are time-major unless <see cref="RecurrentOptions.BatchFirst"/>; parameters are PyTorch's, by name.
/// </summary>
public sealed partial class ReferenceNetwork
{
    public ReferenceNetwork(RecurrentOptions options, IReadOnlyDictionary<string, double[]> parameters)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(parameters);
        Options = options;
        Infos = ParameterLayout.For(options);
        Parameters = new Dictionary<string, double[]>(StringComparer.Ordinal);
        foreach (ParameterInfo info in Infos)
        {
            if (!parameters.TryGetValue(info.Name, out double[]? v))
            {
                throw new ArgumentException($"Missing parameter '{info.Name}' {info.ShapeText}.", nameof(parameters));
            }
            if (v.Length != info.Length)
            {
                throw new ArgumentException($"Parameter '{info.Name}' has {v.Length} elements; expected {info.ShapeText}.", nameof(parameters));
            }
            Parameters[info.Name] = (double[])v.Clone();
        }
    }

    public RecurrentOptions Options { get; }

    public IReadOnlyList<ParameterInfo> Infos { get; }

    /// <summary>The live parameter arrays (the gradient checker perturbs them in place).</summary>
    public Dictionary<string, double[]> Parameters { get; }

    /// <summary>The reference twin of a float network: the same parameters, widened to double.</summary>
    public static ReferenceNetwork From(RecurrentNetwork network)
    {
        ArgumentNullException.ThrowIfNull(network);
        return new ReferenceNetwork(network.Options, network.ParameterInfos.ToDictionary(i => i.Name, i => Array.ConvertAll(network.GetParameter(i.Name), v => (double)v)));
    }

    private double[] P(ParameterRole role, int layer, int dir) =>
        Parameters[Infos.First(i => i.Layer == layer && i.Direction == dir && i.Role == role).Name];

    internal static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));

    // max(0, x) keeping NaN, as PyTorch's relu.
    internal static double Relu(double x) => double.IsNaN(x) || x > 0 ? x : 0;
}

/// <summary>A reference forward pass: y, hn, cn, and every intermediate the backward pass reads.</summary>
public sealed class ReferenceTrace
{
    internal ReferenceTrace(int steps, int batch) { Steps = steps; Batch = batch; }

    public int Steps { get; }

    public int Batch { get; }

    /// <summary>[T, B, D·H], or [B, T, D·H] batch-first.</summary>
    public double[] Output { get; internal set; } = [];

    public double[] Hn { get; internal set; } = [];

    public double[] Cn { get; internal set; } = [];

    /// <summary>[B]: each batch row's valid steps (T for every row unless the forward pass was given lengths).</summary>
    public int[] Lengths { get; internal set; } = [];

    internal double[][] LayerInputs = [];          // [L][T, B, in] time-major
    internal double[][] LayerOutputs = [];         // [L][T, B, D·H]
    internal double[][] Act = [];                  // [L·D][T, B, G·H]: i, f, g, o (LSTM) or h (RNN)
    internal double[][] C = [];                    // [L·D][T, B, H]
    internal double[][] Raw = [];                  // [L·D][T, B, H]: o·tanh(c) before the projection (proj_size only)
    internal double[] H0 = [], C0 = [];
}

/// <summary>A reference backward pass: dX, dh0, dc0, and the gradient of every parameter by name.</summary>
public sealed class ReferenceGradients
{
    public double[] DX { get; internal set; } = [];

    public double[] DH0 { get; internal set; } = [];

    public double[] DC0 { get; internal set; } = [];

    public Dictionary<string, double[]> Parameters { get; } = new(StringComparer.Ordinal);
}
