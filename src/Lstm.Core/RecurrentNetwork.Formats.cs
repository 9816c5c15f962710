using Lstm.Simd;

namespace Lstm.Core;

public sealed partial class RecurrentNetwork
{
    /// <summary>
    /// How W_ih and W_hh are stored for the kernels: float32 (the default, and the only format that trains), or an
    /// inference format from <see cref="WithWeightFormat"/> or a saved file. Biases, peepholes, states and activations
    /// are float32 in every format.
    /// </summary>
    public WeightFormat WeightFormat { get; }

    /// <summary>
    /// An inference copy of this network whose W_ih and W_hh are stored in <paramref name="format"/>: 16-bit
    /// (<see cref="WeightFormat.Float16"/>, <see cref="WeightFormat.BFloat16"/>; rounded to nearest even) or int8
    /// (<see cref="WeightFormat.Int8"/>: one scale per output row, x and h quantized per row at every step). It runs
    /// <see cref="Forward(ReadOnlySpan{float}, int, int, ReadOnlySpan{float}, ReadOnlySpan{float})"/>, streams and
    /// threads as this one does; <see cref="ForwardTraining(ReadOnlySpan{float}, int, int, ReadOnlySpan{float}, ReadOnlySpan{float}, float, Training.SeededRandom)"/>, <see cref="Backward(TrainingTrace, ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, ParameterSet)"/>, <see cref="SetParameter"/> and
    /// <see cref="UpdateParameters"/> throw <see cref="NotSupportedException"/>. Its <see cref="GetParameter"/> gives
    /// the weights as stored (dequantized to float32), so <c>WithWeightFormat(WeightFormat.Float32)</c> of an int8 or
    /// 16-bit network is a float32 network with those weights. Converting between two reduced formats is refused
    /// (it would round twice): convert the float32 network. <see cref="CheckFinite"/> and <see cref="Threads"/> are copied.
    /// </summary>
    public RecurrentNetwork WithWeightFormat(WeightFormat format)
    {
        if (!Enum.IsDefined(format))
        {
            throw new ArgumentOutOfRangeException(nameof(format), format, "Unknown weight format.");
        }
        RecurrentNetwork copy;
        if (format == WeightFormat)
        {
            // The packed weights are immutable: the copy shares them.
            copy = new RecurrentNetwork(Options, CloneParameters(), KernelPath, format, (l, d, _) => (Packed(l, d).InputWeights, Packed(l, d).RecurrentWeights));
        }
        else if (WeightFormat != WeightFormat.Float32 && format != WeightFormat.Float32)
        {
            throw new NotSupportedException($"This network's weights are already {WeightFormat}; converting them to {format} would round twice. Convert the float32 network instead.");
        }
        else
        {
            copy = new RecurrentNetwork(Options, CloneParameters(), KernelPath, format);
        }
        copy.CheckFinite = CheckFinite;
        copy.Threads = Threads;
        return copy;
    }

    /// <summary>A network whose W_ih and W_hh come packed already (a saved file's), with the other parameters in <paramref name="values"/> (the weights' entries are checked for shape only).</summary>
    internal static RecurrentNetwork FromPackedWeights(RecurrentOptions options, IReadOnlyDictionary<string, float[]> values, WeightFormat format,
        Func<int, int, float[], (GateWeights Input, GateWeights Recurrent)> weights, SimdPath? path) =>
        new(options, ToParameterSet(options, values), path, format, weights);

    // The weights as the kernels hold them (float32 values of a reduced network's packed weights, for GetParameter).
    private ParameterSet CloneParameters()
    {
        var p = new ParameterSet(Options);
        foreach (ParameterInfo info in p.Infos)
        {
            GetParameter(info.Name).CopyTo(p[info.Name], 0);
        }
        return p;
    }

    // A reduced network's W_ih and W_hh live only in their packed form: keeping float32 copies as well would cost
    // 4 bytes per weight in memory, the footprint the format exists to cut. GetParameter dequantizes on demand.
    private void ReleaseFloatWeightsUnlessFloat32()
    {
        for (int layer = 0; WeightFormat != WeightFormat.Float32 && layer < Options.Layers; layer++)
        {
            for (int dir = 0; dir < Options.Directions; dir++)
            {
                parameters.Release(layer, dir, ParameterRole.WeightIh);
                parameters.Release(layer, dir, ParameterRole.WeightHh);
            }
        }
    }

    private float[]? StoredWeights(string name)
    {
        ParameterInfo info = parameters.Infos[parameters.IndexOf(name)];
        if (WeightFormat == WeightFormat.Float32 || info.Role is not (ParameterRole.WeightIh or ParameterRole.WeightHh))
        {
            return null;
        }
        float[] values = new float[info.Length];
        PackedLayer layer = Packed(info.Layer, info.Direction);
        (info.Role == ParameterRole.WeightIh ? layer.InputWeights : layer.RecurrentWeights).CopyValues(values);
        return values;
    }

    private void ThrowUnlessFloat32(string operation)
    {
        if (WeightFormat != WeightFormat.Float32)
        {
            throw new NotSupportedException($"{operation} needs float32 weights; this network's are {WeightFormat} (inference only). WithWeightFormat(WeightFormat.Float32) gives a float32 copy with the same weights.");
        }
    }
}
