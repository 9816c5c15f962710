using System.Globalization;

namespace Lstm.Experiments.CharModel;

/// <summary>
/// Everything a char-lm checkpoint says, checked when it is read and before anything is sized by it: a file with a
/// valid hash can still hold nonsense (a hidden size whose weights would take 8.6 GB, negative positions, dropout 5),
/// and each must be an <see cref="InvalidDataException"/> here, never an allocation, an <see cref="OverflowException"/>
/// or an <see cref="IndexOutOfRangeException"/> later.
/// </summary>
internal static class CharCheckpoint
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    /// <summary>The model's options, vocabulary and network shape, checked against the tensors the file holds.</summary>
    public static (CharModelOptions Options, string Vocabulary, RecurrentOptions Network) Model(Checkpoint c)
    {
        if (c.Get("kind") != "char-lm")
        {
            throw new InvalidDataException($"The checkpoint holds a '{c.Get("kind")}', not a char-lm model.");
        }
        CharModelOptions o = CharModelOptions.FromMetadata(c);
        Require(o.Hidden >= 1, "hidden", o.Hidden, "≥ 1");
        Require(o.Layers >= 1, "layers", o.Layers, "≥ 1");
        Require(o.Dropout is >= 0 and < 1, "dropout", o.Dropout, "in [0, 1)");
        Require(o.SequenceLength >= 1, "sequenceLength", o.SequenceLength, "≥ 1");
        Require(o.Batch >= 1, "batch", o.Batch, "≥ 1");
        Require(double.IsFinite(o.LearningRate) && o.LearningRate >= 0, "learningRate", o.LearningRate, "finite and ≥ 0");
        Require(!double.IsNaN(o.ClipNorm), "clipNorm", o.ClipNorm, "a number (≤ 0: no clipping)");
        Require(o.DecayEvery >= 0, "decayEvery", o.DecayEvery, "≥ 0");
        Require(double.IsFinite(o.DecayFactor) && o.DecayFactor >= 0, "decayFactor", o.DecayFactor, "finite and ≥ 0");

        string vocab = c.Get("vocabulary");
        if (vocab.Length == 0 || vocab.Distinct().Count() != vocab.Length)
        {
            throw new InvalidDataException($"The checkpoint's vocabulary ({vocab.Length} characters) must be non-empty, each character once.");
        }
        // The network's options beyond its sizes (cell, nonlinearity, bias, ...; defaults in older files): NetworkMetadata
        // owns those entries, the model's cell among them.
        RecurrentOptions net = NetworkOptions(c, new RecurrentOptions(vocab.Length, o.Hidden, o.Layers));
        o = o with { Cell = net.Cell };
        if (net.ProjectionSize != 0)
        {
            // The output layer reads H units: a char model has no projection (a file that says so is not one this library wrote).
            throw new InvalidDataException($"The checkpoint's 'projectionSize' is {net.ProjectionSize}; a char-lm model has none (0).");
        }
        // The network has 4 tensors per layer (2 without bias): a layer count the file cannot hold is refused before the layout is built.
        if (o.Layers > c.Tensors.Count / (net.Bias ? 4 : 2))
        {
            throw new InvalidDataException($"The checkpoint declares {o.Layers} layers but holds only {c.Tensors.Count} tensors.");
        }
        try
        {
            net.Validate();
        }
        catch (NotSupportedException e)
        {
            throw new InvalidDataException($"The checkpoint's network options are not supported by this library: {e.Message}", e);
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"The checkpoint's model (vocabulary {vocab.Length}, hidden {o.Hidden}, layers {o.Layers}) is invalid or too large: {e.Message}", e);
        }
        // Every tensor's length against what the options need, in long arithmetic, before any of it is allocated.
        foreach (ParameterInfo info in ParameterLayout.For(net))
        {
            Length(c, "net." + info.Name, info.Shape.Aggregate(1L, (a, b) => a * b));
        }
        Length(c, "head.weight", (long)vocab.Length * o.Hidden);
        Length(c, "head.bias", vocab.Length);
        return (o, vocab, net);
    }

    // NetworkMetadata.Read, its errors worded as the model's other options' ("The checkpoint's model options are
    // malformed: 'cell' is 7; ..."), as they read when the model options parsed the cell themselves.
    private static RecurrentOptions NetworkOptions(Checkpoint c, RecurrentOptions shape)
    {
        try
        {
            return NetworkMetadata.Read(c, shape);
        }
        catch (InvalidDataException e)
        {
            const string Subject = "The checkpoint's ";
            string detail = e.Message.StartsWith(Subject, StringComparison.Ordinal) ? e.Message[Subject.Length..] : e.Message;
            throw new InvalidDataException("The checkpoint's model options are malformed: " + detail, e);
        }
    }

    /// <summary>The training state (step, RNG, positions, carried h and c, optimizer state), checked against the model.</summary>
    public static (long Step, ulong Rng, long[] Positions, int TextLength, long OptimizerSteps, List<float[][]> OptimizerState) Training(
        Checkpoint c, CharModelOptions o, RecurrentOptions net)
    {
        long step = Number(c, "step", long.Parse);
        ulong rng = Number(c, "rng", ulong.Parse);
        long optimizerSteps = Number(c, "optimizerSteps", long.Parse);
        int textLength = Number(c, "textLength", int.Parse);
        Require(step >= 0, "step", step, "≥ 0");
        Require(optimizerSteps >= 0, "optimizerSteps", optimizerSteps, "≥ 0");
        Require(textLength >= o.SequenceLength + 1, "textLength", textLength, $"≥ sequenceLength + 1 = {(long)o.SequenceLength + 1}");
        long oneHot = (long)o.SequenceLength * o.Batch * net.InputSize;
        Require(oneHot <= Array.MaxLength, "batch", o.Batch, $"small enough that a step's input (sequenceLength × batch × vocabulary = {oneHot:N0}) fits an array");

        string[] parts = c.Get("positions").Split(',');
        if (parts.Length != o.Batch)
        {
            throw new InvalidDataException($"The checkpoint holds {parts.Length} positions for a batch of {o.Batch}.");
        }
        var positions = new long[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            positions[i] = Parse(parts[i], "positions", long.Parse);
            Require(positions[i] >= 0 && positions[i] < textLength - 1, "positions", positions[i], $"in [0, textLength - 1 = {textLength - 1})");
        }

        long state = (long)o.Layers * o.Batch * o.Hidden;
        Length(c, "state.h", state);
        Length(c, "state.c", net.HasCellState ? state : 0); // a GRU or RNN carries h only

        // Optimizer state: none (saved before the first step) or every tensor's arrays, each the length of its tensor.
        var lengths = ParameterLayout.For(net).Select(i => c.Tensors["net." + i.Name].Length)
            .Append(c.Tensors["head.weight"].Length).Append(c.Tensors["head.bias"].Length).ToList();
        int perTensor = o.CreateOptimizer().StateArraysPerTensor;
        var saved = new List<float[][]>();
        bool any = c.Tensors.ContainsKey("opt.0.0");
        for (int i = 0; any && i < lengths.Count; i++)
        {
            var arrays = new float[perTensor][];
            for (int j = 0; j < perTensor; j++)
            {
                arrays[j] = Length(c, string.Create(Invariant, $"opt.{i}.{j}"), lengths[i]);
            }
            saved.Add(arrays);
        }
        int expected = lengths.Count - 2 + 2 + 2 + (any ? lengths.Count * perTensor : 0); // net, head, state, optimizer
        if (c.Tensors.Count != expected)
        {
            var known = new HashSet<string>(ParameterLayout.For(net).Select(i => "net." + i.Name).Concat(["head.weight", "head.bias", "state.h", "state.c"]), StringComparer.Ordinal);
            for (int i = 0; any && i < lengths.Count; i++)
                for (int j = 0; j < perTensor; j++)
                    known.Add(string.Create(Invariant, $"opt.{i}.{j}"));
            throw new InvalidDataException($"The checkpoint holds tensors its model and optimizer do not: {string.Join(", ", c.Tensors.Keys.Where(k => !known.Contains(k)).Take(8))}.");
        }
        return (step, rng, positions, textLength, optimizerSteps, saved);
    }

    private static float[] Length(Checkpoint c, string name, long expected)
    {
        float[] t = c.Tensor(name);
        if (t.Length != expected)
        {
            throw new InvalidDataException($"The checkpoint's tensor '{name}' holds {t.Length:N0} values; its options need {expected:N0}.");
        }
        return t;
    }

    private static T Number<T>(Checkpoint c, string key, Func<string, IFormatProvider, T> parse) => Parse(c.Get(key), key, parse);

    private static T Parse<T>(string text, string key, Func<string, IFormatProvider, T> parse)
    {
        try
        {
            return parse(text, Invariant);
        }
        catch (Exception e) when (e is FormatException or OverflowException)
        {
            throw new InvalidDataException($"The checkpoint's '{key}' is not a valid number: '{(text.Length <= 40 ? text : text[..40] + "…")}'.", e);
        }
    }

    private static void Require<T>(bool ok, string key, T value, string expected)
    {
        if (!ok)
        {
            throw new InvalidDataException(string.Create(Invariant, $"The checkpoint's '{key}' is {value}; expected {expected}."));
        }
    }
}
