namespace Lstm.Experiments.CharModel;

/// <summary>The optimizer a character-level model trains with (<see cref="CharModelOptions.Optimizer"/>).</summary>
public enum OptimizerKind
{
    /// <summary>Plain stochastic gradient descent (<see cref="Sgd"/>).</summary>
    Sgd,

    /// <summary>SGD with momentum 0.9.</summary>
    Momentum,

    /// <summary><see cref="Adam"/>, the default.</summary>
    Adam,

    /// <summary><see cref="Adadelta"/>.</summary>
    Adadelta,
}

/// <summary>
/// The words for <see cref="OptimizerKind"/> that the checkpoint's <c>optimizer</c> entry and the CLI's
/// <c>--optimizer</c> use (sgd, momentum, adam, adadelta), as they did when the option was a string: old checkpoints load.
/// </summary>
public static class OptimizerNames
{
    /// <summary>The accepted words, in <see cref="OptimizerKind"/> order.</summary>
    public static IReadOnlyList<string> All { get; } = ["sgd", "momentum", "adam", "adadelta"];

    /// <summary>"sgd, momentum, adam or adadelta": for messages.</summary>
    public static string Expected => $"{string.Join(", ", All.Take(All.Count - 1))} or {All[^1]}";

    /// <summary>The word for <paramref name="kind"/>; one outside the enum is an <see cref="ArgumentOutOfRangeException"/>.</summary>
    public static string Name(this OptimizerKind kind) =>
        Enum.IsDefined(kind) ? All[(int)kind] : throw new ArgumentOutOfRangeException(nameof(kind), kind, $"Unknown optimizer; expected {Expected}.");

    /// <summary>The kind a word names (exactly, lower case); any other is a <see cref="FormatException"/> naming the allowed ones.</summary>
    public static OptimizerKind Parse(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        for (int i = 0; i < All.Count; i++)
        {
            if (string.Equals(All[i], name, StringComparison.Ordinal))
            {
                return (OptimizerKind)i;
            }
        }
        throw new FormatException($"'optimizer' is '{(name.Length <= 40 ? name : name[..40] + "…")}'; expected {Expected}.");
    }
}
