namespace Lstm.Core.Interop;

/// <summary>How <see cref="PyTorchImport"/> reads a state_dict, beyond what its names and shapes say.</summary>
public sealed record PyTorchImportSettings
{
    /// <summary>Inputs and outputs are [B, T, ·] (PyTorch's <c>batch_first=True</c>).</summary>
    public bool BatchFirst { get; init; }

    /// <summary>
    /// An RNN's nonlinearity: a state_dict holds the same tensors for tanh and ReLU, so it cannot say; tanh is the
    /// default, as in PyTorch. ReLU on a file that holds no RNN is an error.
    /// </summary>
    public RnnNonlinearity Nonlinearity { get; init; }

    /// <summary>
    /// The key prefix of the module to load (such as <c>encoder.rnn.</c>; the trailing dot may be left out), when the
    /// file holds several recurrent modules; null: the file's only one.
    /// </summary>
    public string? Prefix { get; init; }

    /// <summary>The kernel path; the best this CPU runs if null.</summary>
    public Lstm.Simd.SimdPath? KernelPath { get; init; }
}

/// <summary>
/// The recurrent modules of a state_dict, found by their first weight: <c>…weight_ih_l0</c> for a sequence module
/// (nn.LSTM, nn.GRU, nn.RNN) and <c>…weight_ih</c> for a cell module (nn.LSTMCell, nn.GRUCell, nn.RNNCell), whose
/// keys carry no layer suffix. Whatever the cell, the keys are the same names, so this is cell-agnostic.
/// </summary>
internal static class RecurrentModules
{
    private const string SequenceKey = "weight_ih_l0", CellKey = "weight_ih";

    /// <summary>The names a cell module's keys take in a one-layer network (weight_ih → weight_ih_l0, and their int8 scales).</summary>
    private static readonly string[] CellKeys = ["weight_ih", "weight_hh", "bias_ih", "bias_hh"];

    public sealed record Module(string Prefix, bool IsCell, NamedTensor First)
    {
        public string Describe() => $"'{Prefix}' ({(IsCell ? "cell module, " : "")}{First.Name[Prefix.Length..]} {First.ShapeText})";
    }

    public static List<Module> Find(IReadOnlyList<NamedTensor> tensors) =>
        tensors.Where(t => t.Name.EndsWith(SequenceKey, StringComparison.Ordinal) || t.Name.EndsWith(CellKey, StringComparison.Ordinal))
            .Select(t => t.Name.EndsWith(SequenceKey, StringComparison.Ordinal)
                ? new Module(t.Name[..^SequenceKey.Length], false, t)
                : new Module(t.Name[..^CellKey.Length], true, t))
            .Where(m => m.Prefix.Length == 0 || m.Prefix.EndsWith('.'))
            .OrderBy(m => m.Prefix, StringComparer.Ordinal).ToList();

    /// <summary>The module <paramref name="prefix"/> names, or the only one; a clear error listing them all otherwise.</summary>
    public static Module Choose(IReadOnlyList<NamedTensor> tensors, string? prefix)
    {
        List<Module> modules = Find(tensors);
        string listed = string.Join(", ", modules.Select(m => m.Describe()));
        if (prefix is not null)
        {
            Module? chosen = modules.FirstOrDefault(m => m.Prefix == prefix || (prefix.Length > 0 && m.Prefix == prefix + "."));
            return chosen ?? throw new InvalidDataException(modules.Count == 0
                ? $"No recurrent module at prefix '{prefix}': the file holds none (no 'weight_ih_l0' or 'weight_ih' key among {Sample(tensors)})."
                : $"No recurrent module at prefix '{prefix}'; the file holds {listed}.");
        }
        return modules.Count switch
        {
            1 => modules[0],
            0 => throw new InvalidDataException($"No 'weight_ih_l0' (nn.LSTM, nn.GRU, nn.RNN) or 'weight_ih' (their cell modules) among the {tensors.Count} tensors ({Sample(tensors)}): not a recurrent module's state_dict."),
            _ => throw new InvalidDataException($"The file holds {modules.Count} recurrent modules: {listed}. Choose one by its prefix (lstm run --prefix, or PyTorchImportSettings.Prefix)."),
        };
    }

    /// <summary>
    /// The chosen module's tensors by their network names (prefix stripped; a cell module's keys given their _l0 names),
    /// leaving out the keys of any other module nested under its prefix; <paramref name="ignored"/> gets every other key.
    /// </summary>
    public static Dictionary<string, NamedTensor> Tensors(IReadOnlyList<NamedTensor> tensors, Module module, List<Module> all, out List<string> ignored)
    {
        string[] nested = all.Where(m => m.Prefix.Length > module.Prefix.Length && m.Prefix.StartsWith(module.Prefix, StringComparison.Ordinal)).Select(m => m.Prefix).ToArray();
        bool Mine(string name) => name.StartsWith(module.Prefix, StringComparison.Ordinal) && !nested.Any(p => name.StartsWith(p, StringComparison.Ordinal));
        ignored = tensors.Where(t => !Mine(t.Name)).Select(t => t.Name).ToList();
        var mine = new Dictionary<string, NamedTensor>(StringComparer.Ordinal);
        foreach (NamedTensor t in tensors.Where(t => Mine(t.Name)))
        {
            if (!mine.TryAdd(NetworkName(t.Name[module.Prefix.Length..], module.IsCell), t))
            {
                throw new InvalidDataException($"'{t.Name}' and '{mine[NetworkName(t.Name[module.Prefix.Length..], module.IsCell)].Name}' name the same parameter: a cell module's keys have no layer suffix.");
            }
        }
        return mine;
    }

    /// <summary>A network name as the file spells it: a cell module's without the _l0.</summary>
    public static string FileName(string networkName, Module module)
    {
        if (module.IsCell)
        {
            foreach (string k in CellKeys)
            {
                if (networkName.StartsWith(k + "_l0", StringComparison.Ordinal))
                {
                    return module.Prefix + k + networkName[(k.Length + 3)..];
                }
            }
        }
        return module.Prefix + networkName;
    }

    private static string NetworkName(string name, bool cell)
    {
        if (cell)
        {
            foreach (string k in CellKeys)
            {
                if (name == k || name.StartsWith(k + ".", StringComparison.Ordinal))
                {
                    return k + "_l0" + name[k.Length..];
                }
            }
        }
        return name;
    }

    private static string Sample(IReadOnlyList<NamedTensor> tensors) => string.Join(", ", tensors.Take(8).Select(t => t.Name)) + (tensors.Count > 8 ? ", ..." : "");
}
