using Lstm.Core.NumPy;
using Lstm.Simd;

namespace Lstm.Core.Interop;

/// <summary>What <see cref="PyTorchImport"/> found: the network, the options it inferred, and the prefix it stripped.</summary>
public sealed record ImportedNetwork(RecurrentNetwork Network, RecurrentOptions Options, string Prefix, IReadOnlyList<string> IgnoredKeys)
{
    /// <summary>The file held a cell module (nn.LSTMCell, nn.GRUCell, nn.RNNCell: keys without _l0), loaded as a one-layer network.</summary>
    public bool IsCellModule { get; init; }
}

/// <summary>
/// Brings a PyTorch <c>nn.LSTM</c> (or <c>nn.RNN</c>) <c>state_dict</c> into a <see cref="RecurrentNetwork"/>: from
/// safetensors, or from NPZ as written by <c>numpy.savez(**{k: v.numpy() for k, v in state_dict.items()})</c>.
/// I, H, L, D and the cell are inferred from the shapes; a key prefix such as <c>lstm.</c> is found and stripped
/// (keys outside it, such as another module's, are ignored and listed). Missing, unexpected or mis-shaped keys
/// under the prefix give one <see cref="InvalidDataException"/> that lists them all.
/// </summary>
public static class PyTorchImport
{
    public static ImportedNetwork Load(string path, bool batchFirst = false, SimdPath? kernelPath = null) =>
        Load(path, new PyTorchImportSettings { BatchFirst = batchFirst, KernelPath = kernelPath });

    /// <summary>Loads the state_dict at <paramref name="path"/> as <paramref name="settings"/> say (which module, batch-first, ReLU).</summary>
    public static ImportedNetwork Load(string path, PyTorchImportSettings settings)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(settings);
        IReadOnlyList<NamedTensor> tensors = Path.GetExtension(path).Equals(".npz", StringComparison.OrdinalIgnoreCase)
            ? Npz.Read(path).Select(kv => new NamedTensor(kv.Key, kv.Value.Shape, kv.Value.ToSingle(), kv.Value.DType)).ToList()
            : SafeTensors.Read(path);
        return FromTensors(tensors, settings);
    }

    public static ImportedNetwork FromTensors(IReadOnlyList<NamedTensor> tensors, bool batchFirst = false, SimdPath? kernelPath = null) =>
        FromTensors(tensors, new PyTorchImportSettings { BatchFirst = batchFirst, KernelPath = kernelPath });

    /// <summary>The network of one recurrent module among <paramref name="tensors"/>, as <paramref name="settings"/> say.</summary>
    public static ImportedNetwork FromTensors(IReadOnlyList<NamedTensor> tensors, PyTorchImportSettings settings)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        ArgumentNullException.ThrowIfNull(settings);
        bool batchFirst = settings.BatchFirst;
        SimdPath? kernelPath = settings.KernelPath;
        var twice = tensors.GroupBy(t => t.Name, StringComparer.Ordinal).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        if (twice.Count > 0)
        {
            throw new InvalidDataException($"The state_dict names {string.Join(", ", twice)} more than once.");
        }
        // One module: the only one, or the one settings.Prefix names (several are listed in the error).
        RecurrentModules.Module module = RecurrentModules.Choose(tensors, settings.Prefix);
        string prefix = module.Prefix;
        var mine = RecurrentModules.Tensors(tensors, module, RecurrentModules.Find(tensors), out List<string> ignored);
        string Shown(string name) => RecurrentModules.FileName(name, module);
        var scales = mine.Where(kv => kv.Key.EndsWith(QuantizedTensors.ScaleSuffix, StringComparison.Ordinal)).ToDictionary(StringComparer.Ordinal);
        foreach (string k in scales.Keys) mine.Remove(k); // int8 weights' row scales: checked by QuantizedTensors

        NamedTensor wih0 = mine["weight_ih_l0"];
        if (!mine.TryGetValue("weight_hh_l0", out NamedTensor? whh0) || whh0.Shape.Length != 2 || wih0.Shape.Length != 2)
        {
            throw new InvalidDataException($"Missing or mis-shaped '{Shown("weight_hh_l0")}'; both {Shown("weight_ih_l0")[prefix.Length..]} and {Shown("weight_hh_l0")[prefix.Length..]} must be 2-D.");
        }
        // With projections (proj_size P) weight_hh is [4H, P] and weight_hr_l0 [P, H] gives H.
        int projection = mine.TryGetValue("weight_hr_l0", out NamedTensor? whr0) && whr0.Shape.Length == 2 ? whr0.Shape[0] : 0;
        int hidden = projection > 0 ? whr0!.Shape[1] : whh0.Shape[1];
        int gates = hidden > 0 ? whh0.Shape[0] / hidden : 0;
        if (gates is not (4 or 3 or 1) || whh0.Shape[0] != gates * hidden)
        {
            throw new InvalidDataException($"'{Shown("weight_hh_l0")}' is {whh0.ShapeText}; expected [4H, H] (LSTM), [3H, H] (GRU) or [H, H] (RNN).");
        }
        CellKind cell = gates switch { 4 => CellKind.Lstm, 3 => CellKind.Gru, _ => CellKind.Rnn }; // nn.GRU: PyTorch's linear_before_reset = 1
        int layers = 1;
        while (mine.ContainsKey(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"weight_hh_l{layers}")))
        {
            layers++; // L: the consecutive weight_hh_l0, l1, ...; anything beyond is reported as unexpected
        }
        bool bidirectional = mine.Keys.Any(k => k.EndsWith("_reverse", StringComparison.Ordinal));
        bool peepholes = mine.Keys.Any(k => k.StartsWith("weight_peephole", StringComparison.Ordinal));
        bool bias = mine.ContainsKey("bias_ih_l0") || mine.ContainsKey("bias_hh_l0"); // bias=False: neither (one alone is reported missing)
        var options = new RecurrentOptions(wih0.Shape[1], hidden, layers, bidirectional, batchFirst, cell, Peepholes: peepholes,
            Bias: bias, ProjectionSize: projection);
        if (settings.Nonlinearity != RnnNonlinearity.Tanh)
        {
            if (options.Cell != CellKind.Rnn)
            {
                throw new ArgumentException($"Nonlinearity {settings.Nonlinearity} applies to an RNN; '{prefix}' holds an {options.Cell} ({Shown("weight_hh_l0")} {whh0.ShapeText}).", nameof(settings));
            }
            options = options with { Nonlinearity = settings.Nonlinearity };
        }

        IReadOnlyList<ParameterInfo> expected;
        try
        {
            expected = ParameterLayout.For(options); // validates the sizes: I = 0 (a [4H, 0] weight_ih_l0), or too large for an array
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"'{Shown("weight_ih_l0")}' {wih0.ShapeText} and '{Shown("weight_hh_l0")}' {whh0.ShapeText} do not describe a network: {e.Message}", e);
        }
        var problems = new List<string>();
        foreach (ParameterInfo info in expected)
        {
            if (!mine.TryGetValue(info.Name, out NamedTensor? t)) problems.Add($"missing {Shown(info.Name)} {info.ShapeText}");
            else if (!t.Shape.SequenceEqual(info.Shape)) problems.Add($"{Shown(info.Name)} is {t.ShapeText}, expected {info.ShapeText}");
            else if (t.Data.Length != info.Length) problems.Add($"{Shown(info.Name)} holds {t.Data.Length} values for its shape {info.ShapeText}");
        }
        problems.AddRange(mine.Keys.Except(expected.Select(i => i.Name)).Select(k => $"unexpected {Shown(k)}"));
        if (problems.Count > 0)
        {
            string what = cell switch { CellKind.Lstm => "LSTM", CellKind.Gru => "GRU", _ => "RNN" } + (module.IsCell ? " cell" : "");
            throw new InvalidDataException($"The state_dict does not describe one {what} (I = {options.InputSize}, H = {hidden}, L = {layers}, D = {options.Directions}{(bias ? "" : ", no bias")}): " + string.Join("; ", problems) + ".");
        }
        RecurrentNetwork? reduced = QuantizedTensors.TryLoad(options, mine, scales, kernelPath); // I8, F16 or BF16 weights as stored
        var values = expected.ToDictionary(i => i.Name, i => mine[i.Name].Data);
        return new ImportedNetwork(reduced ?? RecurrentNetwork.FromParameters(options, values, kernelPath), options, prefix, ignored) { IsCellModule = module.IsCell };
    }

    /// <summary>
    /// Writes the network's parameters as safetensors under their PyTorch names (bit-exact round trip): float32, or
    /// for a network in an inference <see cref="RecurrentNetwork.WeightFormat"/> its W_ih and W_hh as stored (I8 with
    /// an F32 <c>.scale</c> tensor of row scales, F16 or BF16), which <see cref="Load(string, PyTorchImportSettings)"/> reads back into the same format.
    /// </summary>
    public static void Export(RecurrentNetwork network, string path, string prefix = "")
    {
        ArgumentNullException.ThrowIfNull(network);
        SafeTensors.Write(path, QuantizedTensors.Of(network, prefix), keepSourceDTypes: true);
    }
}
