using Lstm.Core.NumPy;
using Lstm.Simd;

namespace Lstm.Core.Interop;

/// <summary>What <see cref="PyTorchImport"/> found: the network, the options it inferred, and the prefix it stripped.</summary>
public sealed record ImportedNetwork(RecurrentNetwork Network, RecurrentOptions Options, string Prefix, IReadOnlyList<string> IgnoredKeys);

/// <summary>
/// Brings a PyTorch <c>nn.LSTM</c> (or <c>nn.RNN</c>) <c>state_dict</c> into a <see cref="RecurrentNetwork"/>: from
/// safetensors, or from NPZ as written by <c>numpy.savez(**{k: v.numpy() for k, v in state_dict.items()})</c>.
/// I, H, L, D and the cell are inferred from the shapes; a key prefix such as <c>lstm.</c> is found and stripped
/// (keys outside it, such as another module's, are ignored and listed). Missing, unexpected or mis-shaped keys
/// under the prefix give one <see cref="InvalidDataException"/> that lists them all.
/// </summary>
public static class PyTorchImport
{
    public static ImportedNetwork Load(string path, bool batchFirst = false, SimdPath? simdPath = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        IReadOnlyList<NamedTensor> tensors = Path.GetExtension(path).Equals(".npz", StringComparison.OrdinalIgnoreCase)
            ? Npz.Read(path).Select(kv => new NamedTensor(kv.Key, kv.Value.Shape, kv.Value.ToSingle(), kv.Value.DType)).ToList()
            : SafeTensors.Read(path);
        return FromTensors(tensors, batchFirst, simdPath);
    }

    public static ImportedNetwork FromTensors(IReadOnlyList<NamedTensor> tensors, bool batchFirst = false, SimdPath? simdPath = null)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        var twice = tensors.GroupBy(t => t.Name, StringComparer.Ordinal).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        if (twice.Count > 0)
        {
            throw new InvalidDataException($"The state_dict names {string.Join(", ", twice)} more than once.");
        }
        var first = tensors.Where(t => t.Name.EndsWith("weight_ih_l0", StringComparison.Ordinal)).ToList();
        if (first.Count != 1)
        {
            throw new InvalidDataException(first.Count == 0
                ? $"No 'weight_ih_l0' among the {tensors.Count} tensors ({string.Join(", ", tensors.Take(8).Select(t => t.Name))}...): not an nn.LSTM state_dict."
                : $"Several LSTMs in one file ({string.Join(", ", first.Select(t => t.Name))}); keep one.");
        }
        string prefix = first[0].Name[..^"weight_ih_l0".Length];
        var mine = tensors.Where(t => t.Name.StartsWith(prefix, StringComparison.Ordinal)).ToDictionary(t => t.Name[prefix.Length..], StringComparer.Ordinal);
        var scales = mine.Where(kv => kv.Key.EndsWith(QuantizedTensors.ScaleSuffix, StringComparison.Ordinal)).ToDictionary(StringComparer.Ordinal);
        foreach (string k in scales.Keys) mine.Remove(k); // int8 weights' row scales: checked by QuantizedTensors
        var ignored = tensors.Where(t => !t.Name.StartsWith(prefix, StringComparison.Ordinal)).Select(t => t.Name).ToList();

        NamedTensor wih0 = mine["weight_ih_l0"];
        if (!mine.TryGetValue("weight_hh_l0", out NamedTensor? whh0) || whh0.Shape.Length != 2 || wih0.Shape.Length != 2)
        {
            throw new InvalidDataException($"Missing or mis-shaped '{prefix}weight_hh_l0'; both weight_ih_l0 and weight_hh_l0 must be 2-D.");
        }
        int hidden = whh0.Shape[1];
        int gates = hidden > 0 ? whh0.Shape[0] / hidden : 0;
        if (gates is not (4 or 3 or 1) || whh0.Shape[0] != gates * hidden)
        {
            throw new InvalidDataException($"'{prefix}weight_hh_l0' is {whh0.ShapeText}; expected [4H, H] (LSTM), [3H, H] (GRU) or [H, H] (RNN).");
        }
        CellKind cell = gates switch { 4 => CellKind.Lstm, 3 => CellKind.Gru, _ => CellKind.Rnn }; // nn.GRU: PyTorch's linear_before_reset = 1
        int layers = 1;
        while (mine.ContainsKey(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"weight_hh_l{layers}")))
        {
            layers++; // L: the consecutive weight_hh_l0, l1, ...; anything beyond is reported as unexpected
        }
        bool bidirectional = mine.Keys.Any(k => k.EndsWith("_reverse", StringComparison.Ordinal));
        bool peepholes = mine.Keys.Any(k => k.StartsWith("weight_peephole", StringComparison.Ordinal));
        var options = new RecurrentOptions(wih0.Shape[1], hidden, layers, bidirectional, batchFirst, cell, Peepholes: peepholes);

        IReadOnlyList<ParameterInfo> expected;
        try
        {
            expected = ParameterLayout.For(options); // validates the sizes: I = 0 (a [4H, 0] weight_ih_l0), or too large for an array
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"'{prefix}weight_ih_l0' {wih0.ShapeText} and '{prefix}weight_hh_l0' {whh0.ShapeText} do not describe a network: {e.Message}", e);
        }
        var problems = new List<string>();
        foreach (ParameterInfo info in expected)
        {
            if (!mine.TryGetValue(info.Name, out NamedTensor? t)) problems.Add($"missing {prefix}{info.Name} {info.ShapeText}");
            else if (!t.Shape.SequenceEqual(info.Shape)) problems.Add($"{prefix}{info.Name} is {t.ShapeText}, expected {info.ShapeText}");
            else if (t.Data.Length != info.Length) problems.Add($"{prefix}{info.Name} holds {t.Data.Length} values for its shape {info.ShapeText}");
        }
        problems.AddRange(mine.Keys.Except(expected.Select(i => i.Name)).Select(k => $"unexpected {prefix}{k}"));
        if (problems.Count > 0)
        {
            throw new InvalidDataException($"The state_dict does not describe one {cell switch { CellKind.Lstm => "LSTM", CellKind.Gru => "GRU", _ => "RNN" }} (I = {options.InputSize}, H = {hidden}, L = {layers}, D = {options.Directions}): " + string.Join("; ", problems) + ".");
        }
        RecurrentNetwork? reduced = QuantizedTensors.TryLoad(options, mine, scales, simdPath); // I8, F16 or BF16 weights as stored
        var values = expected.ToDictionary(i => i.Name, i => mine[i.Name].Data);
        return new ImportedNetwork(reduced ?? RecurrentNetwork.FromParameters(options, values, simdPath), options, prefix, ignored);
    }

    /// <summary>
    /// Writes the network's parameters as safetensors under their PyTorch names (bit-exact round trip): float32, or
    /// for a network in an inference <see cref="RecurrentNetwork.WeightFormat"/> its W_ih and W_hh as stored (I8 with
    /// an F32 <c>.scale</c> tensor of row scales, F16 or BF16), which <see cref="Load"/> reads back into the same format.
    /// </summary>
    public static void Export(RecurrentNetwork network, string path, string prefix = "")
    {
        ArgumentNullException.ThrowIfNull(network);
        SafeTensors.Write(path, QuantizedTensors.Of(network, prefix), keepSourceDTypes: true);
    }
}
