using System.Globalization;
using Lstm.Simd;

namespace Lstm.Core.Interop;

/// <summary>
/// W_ih and W_hh in an inference format, in safetensors: I8 with an F32 tensor of row scales named
/// <c>&lt;weight&gt;.scale</c> ([rows]; w ≈ q · scale[row]), or F16 / BF16 as stored. Every other parameter stays F32.
/// A file loads into the same packed weights bit for bit, so a loaded network gives the saved one's outputs exactly.
/// </summary>
internal static class QuantizedTensors
{
    public const string ScaleSuffix = ".scale";

    /// <summary>The safetensors dtype of each reduced format.</summary>
    public static string DType(WeightFormat format) => format switch
    {
        WeightFormat.Int8 => "I8",
        WeightFormat.Float16 => "F16",
        WeightFormat.BFloat16 => "BF16",
        _ => "F32",
    };

    /// <summary>The tensors to save a network in its own weight format.</summary>
    public static IEnumerable<NamedTensor> Of(RecurrentNetwork net, string prefix)
    {
        foreach (ParameterInfo info in net.ParameterInfos)
        {
            if (info.Role is not (ParameterRole.WeightIh or ParameterRole.WeightHh) || net.WeightFormat == WeightFormat.Float32)
            {
                yield return new NamedTensor(prefix + info.Name, info.Shape, net.GetParameter(info.Name), "F32");
                continue;
            }
            PackedLayer layer = net.Packed(info.Layer, info.Direction);
            GateWeights w = info.Role == ParameterRole.WeightIh ? layer.InputWeights : layer.RecurrentWeights;
            if (w is GateWeights.Int8Weights q8)
            {
                sbyte[] q = new sbyte[w.Rows * w.Columns];
                float[] scales = new float[w.Rows];
                q8.Matrix.CopyQuantized(q, scales);
                yield return new NamedTensor(prefix + info.Name, info.Shape, q.Select(v => (float)v).ToArray(), "I8");
                yield return new NamedTensor(prefix + info.Name + ScaleSuffix, [w.Rows], scales, "F32");
            }
            else
            {
                float[] values = new float[w.Rows * w.Columns];
                w.CopyValues(values);
                yield return new NamedTensor(prefix + info.Name, info.Shape, values, DType(w.Format));
            }
        }
    }

    /// <summary>
    /// The network of a state_dict whose weights are all I8 (+ scales), all F16 or all BF16; null otherwise (F32, F64
    /// or a mix of float dtypes), for the float import. <paramref name="tensors"/> holds the parameters by name (prefix stripped), already checked
    /// against <paramref name="options"/>; <paramref name="scales"/> the <c>.scale</c> tensors.
    /// </summary>
    public static RecurrentNetwork? TryLoad(RecurrentOptions options, IReadOnlyDictionary<string, NamedTensor> tensors,
        IReadOnlyDictionary<string, NamedTensor> scales, SimdPath? path)
    {
        var weights = ParameterLayout.For(options).Where(i => i.Role is ParameterRole.WeightIh or ParameterRole.WeightHh).ToList();
        var dtypes = weights.Select(i => tensors[i.Name].SourceDType).Distinct().ToList();
        WeightFormat? format = dtypes.Count == 1 ? dtypes[0] switch
        {
            "I8" => WeightFormat.Int8,
            "F16" => WeightFormat.Float16,
            "BF16" => WeightFormat.BFloat16,
            _ => null,
        } : null;
        if (format is null)
        {
            if (dtypes.Contains("I8"))
            {
                throw new InvalidDataException($"The weights mix I8 with other dtypes ({string.Join(", ", weights.Select(i => $"{i.Name} {tensors[i.Name].SourceDType}"))}); a network has one weight format.");
            }
            if (scales.Count > 0)
            {
                throw new InvalidDataException($"Unexpected scale tensors ({string.Join(", ", scales.Keys)}) for float weights.");
            }
            return null;
        }
        var extra = scales.Keys.Where(k => format != WeightFormat.Int8 || !weights.Any(w => w.Name + ScaleSuffix == k)).ToList();
        if (extra.Count > 0)
        {
            throw new InvalidDataException($"Unexpected scale tensors: {string.Join(", ", extra)}.");
        }

        var values = new Dictionary<string, float[]>(StringComparer.Ordinal);
        var packed = new Dictionary<string, Func<float[]?, GateWeights>>(StringComparer.Ordinal);
        foreach (ParameterInfo info in ParameterLayout.For(options))
        {
            NamedTensor t = tensors[info.Name];
            values[info.Name] = t.Data; // the weights' only for their shape: the network keeps them packed
            if (info.Role is not (ParameterRole.WeightIh or ParameterRole.WeightHh))
            {
                continue;
            }
            int rows = info.Shape[0], columns = info.Shape[1];
            if (format == WeightFormat.Int8)
            {
                float[] rowScales = Scales(info, rows, scales);
                sbyte[] q = t.Data.Select(v => (sbyte)v).ToArray(); // I8 decodes to exact integers
                packed[info.Name] = bias => Checked(info.Name, () => new GateWeights.Int8Weights(PackedInt8Matrix.FromQuantized(q, rowScales, rows, columns, bias)));
            }
            else
            {
                WeightFormat f = format.Value;
                ushort[] bits = t.Data.Select(v => GateWeights.ToBits(v, f)!.Value).ToArray(); // F16 and BF16 decode exactly
                packed[info.Name] = bias => Checked(info.Name, () => new GateWeights.HalfWeights(PackedHalfMatrix.FromBits(bits, rows, columns, f, bias)));
            }
        }
        return RecurrentNetwork.FromPackedWeights(options, values, format.Value,
            (layer, dir, bias) => (packed[Name(ParameterRole.WeightIh, layer, dir)](bias), packed[Name(ParameterRole.WeightHh, layer, dir)](null)), path);

        string Name(ParameterRole role, int layer, int dir) =>
            ParameterLayout.For(options).First(i => i.Role == role && i.Layer == layer && i.Direction == dir).Name;
    }

    private static float[] Scales(ParameterInfo info, int rows, IReadOnlyDictionary<string, NamedTensor> scales)
    {
        if (!scales.TryGetValue(info.Name + ScaleSuffix, out NamedTensor? s))
        {
            throw new InvalidDataException($"The I8 weight {info.Name} has no {info.Name}{ScaleSuffix} tensor (F32 [{rows}]: one scale per row).");
        }
        if (s.Shape.Length != 1 || s.Shape[0] != rows)
        {
            throw new InvalidDataException($"{info.Name}{ScaleSuffix} is {s.ShapeText}; expected [{rows.ToString(CultureInfo.InvariantCulture)}].");
        }
        int bad = Array.FindIndex(s.Data, v => !float.IsFinite(v) || v < 0);
        if (bad >= 0)
        {
            throw new InvalidDataException($"{info.Name}{ScaleSuffix}[{bad}] is {s.Data[bad]}; scales must be finite and ≥ 0.");
        }
        return s.Data;
    }

    // The kernels' own checks (a non-finite 16-bit weight, a bad scale) are the file's fault here.
    private static GateWeights Checked(string name, Func<GateWeights> make)
    {
        try
        {
            return make();
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"{name}: {e.Message}", e);
        }
    }
}
