using System.Globalization;

namespace Lstm.Core.Training;

/// <summary>
/// The recurrent network's options beyond I, H and L in a checkpoint's metadata: <c>cell</c> (the
/// <see cref="CellKind"/> as its number), <c>nonlinearity</c> (<see cref="RnnNonlinearity"/> as its number),
/// <c>bias</c>, <c>linearBeforeReset</c> (true or false) and <c>projectionSize</c>. A key that is absent reads as the
/// option's default, so checkpoints written before these keys existed (always an LSTM with biases) load as before.
/// </summary>
public static class NetworkMetadata
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    /// <summary>Writes the options of <paramref name="o"/> beyond I, H and L into the metadata of <paramref name="c"/>.</summary>
    public static void Write(Checkpoint c, RecurrentOptions o)
    {
        c.Metadata["cell"] = ((int)o.Cell).ToString(Invariant);
        c.Metadata["nonlinearity"] = ((int)o.Nonlinearity).ToString(Invariant);
        c.Metadata["bias"] = o.Bias ? "true" : "false";
        c.Metadata["linearBeforeReset"] = o.LinearBeforeReset ? "true" : "false";
        c.Metadata["projectionSize"] = o.ProjectionSize.ToString(Invariant);
    }

    /// <summary><paramref name="shape"/> (I, H, L and the rest at their defaults) with the options the metadata names.</summary>
    public static RecurrentOptions Read(Checkpoint c, RecurrentOptions shape)
    {
        int cell = Number(c, "cell", (int)shape.Cell), nonlinearity = Number(c, "nonlinearity", (int)shape.Nonlinearity);
        int projection = Number(c, "projectionSize", shape.ProjectionSize);
        if (!Enum.IsDefined((CellKind)cell))
        {
            throw new InvalidDataException($"The checkpoint's 'cell' is {cell}; expected {string.Join(", ", Enum.GetValues<CellKind>().Select(k => $"{(int)k} ({k})"))}.");
        }
        if (!Enum.IsDefined((RnnNonlinearity)nonlinearity))
        {
            throw new InvalidDataException($"The checkpoint's 'nonlinearity' is {nonlinearity}; expected 0 (tanh) or 1 (ReLU).");
        }
        if (projection < 0)
        {
            throw new InvalidDataException($"The checkpoint's 'projectionSize' is {projection}; expected ≥ 0.");
        }
        return shape with
        {
            Cell = (CellKind)cell,
            Nonlinearity = (RnnNonlinearity)nonlinearity,
            Bias = Flag(c, "bias", shape.Bias),
            LinearBeforeReset = Flag(c, "linearBeforeReset", shape.LinearBeforeReset),
            ProjectionSize = projection,
        };
    }

    private static int Number(Checkpoint c, string key, int absent) =>
        !c.Metadata.TryGetValue(key, out string? text) ? absent
        : int.TryParse(text, NumberStyles.AllowLeadingSign, Invariant, out int v) ? v
        : throw new InvalidDataException($"The checkpoint's '{key}' is not a valid number: '{(text.Length <= 40 ? text : text[..40] + "…")}'.");

    private static bool Flag(Checkpoint c, string key, bool absent) =>
        !c.Metadata.TryGetValue(key, out string? text) ? absent
        : text switch
        {
            "true" => true,
            "false" => false,
            _ => throw new InvalidDataException($"The checkpoint's '{key}' is '{(text.Length <= 40 ? text : text[..40] + "…")}'; expected true or false."),
        };
}
