using System.Globalization;

namespace Lstm.Core;

/// <summary>One parameter tensor: its PyTorch name and shape.</summary>
public sealed record ParameterInfo(string Name, int Layer, int Direction, ParameterRole Role, int[] Shape)
{
    /// <summary>The number of elements.</summary>
    public int Length => Shape.Aggregate(1, (a, b) => a * b);

    /// <summary>"[a, b]".</summary>
    public string ShapeText => "[" + string.Join(", ", Shape) + "]";
}

/// <summary>What a parameter is, within its layer and direction.</summary>
public enum ParameterRole
{
    WeightIh,
    WeightHh,
    BiasIh,
    BiasHh,
    Peephole,

    /// <summary><c>weight_hr_l{k}</c> [P, H]: the LSTM's projection of h (PyTorch's proj_size).</summary>
    Projection,
}

/// <summary>
/// The names and shapes of a network's parameters in PyTorch's <c>state_dict</c> order: per layer, per direction,
/// <c>weight_ih_l{k}</c> [G·H, in], <c>weight_hh_l{k}</c> [G·H, H], <c>bias_ih_l{k}</c>, <c>bias_hh_l{k}</c> [G·H],
/// suffix <c>_reverse</c> for the second direction, and with peepholes <c>weight_peephole_l{k}</c> [3H] (i, f, o).
/// Without bias (<see cref="RecurrentOptions.Bias"/> false, PyTorch's <c>bias=False</c>) there are no bias tensors.
/// With projections (P = <see cref="RecurrentOptions.ProjectionSize"/>) <c>weight_hh_l{k}</c> is [4H, P] and
/// <c>weight_hr_l{k}</c> [P, H] follows the biases; the next layer reads D·P.
/// </summary>
public static class ParameterLayout
{
    public static IReadOnlyList<ParameterInfo> For(RecurrentOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var list = new List<ParameterInfo>();
        int gh = options.Gates * options.HiddenSize, h = options.HiddenSize;
        for (int layer = 0; layer < options.Layers; layer++)
        {
            for (int dir = 0; dir < options.Directions; dir++)
            {
                string suffix = string.Create(CultureInfo.InvariantCulture, $"_l{layer}") + (dir == 1 ? "_reverse" : "");
                list.Add(new("weight_ih" + suffix, layer, dir, ParameterRole.WeightIh, [gh, options.LayerInputSize(layer)]));
                list.Add(new("weight_hh" + suffix, layer, dir, ParameterRole.WeightHh, [gh, options.HiddenStateSize]));
                if (options.Bias)
                {
                    list.Add(new("bias_ih" + suffix, layer, dir, ParameterRole.BiasIh, [gh]));
                    list.Add(new("bias_hh" + suffix, layer, dir, ParameterRole.BiasHh, [gh]));
                }
                if (options.Peepholes)
                {
                    list.Add(new("weight_peephole" + suffix, layer, dir, ParameterRole.Peephole, [3 * h]));
                }
                if (options.ProjectionSize > 0)
                {
                    list.Add(new("weight_hr" + suffix, layer, dir, ParameterRole.Projection, [options.ProjectionSize, h]));
                }
            }
        }
        return list;
    }
}
