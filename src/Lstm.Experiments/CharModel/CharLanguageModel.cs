using System.Globalization;

namespace Lstm.Experiments.CharModel;

/// <summary>The settings of a character-level language model and of its training.</summary>
public sealed record CharModelOptions
{
    public int Hidden { get; init; } = 128;
    public int Layers { get; init; } = 2;
    public float Dropout { get; init; }
    /// <summary>Truncated BPTT: the state is carried across chunks of this many steps; the gradient is cut between them.</summary>
    public int SequenceLength { get; init; } = 50;
    public int Batch { get; init; } = 32;
    public double LearningRate { get; init; } = 3e-3;
    /// <summary>Written and read as its word (<see cref="OptimizerNames"/>).</summary>
    public OptimizerKind Optimizer { get; init; } = OptimizerKind.Adam;
    public double ClipNorm { get; init; } = 5;
    public int DecayEvery { get; init; }
    public double DecayFactor { get; init; } = 1;
    public int Seed { get; init; } = 1;
    /// <summary>The recurrent cell: LSTM (default), GRU or Elman RNN (tanh). The checkpoint's <c>cell</c> entry is <see cref="NetworkMetadata"/>'s.</summary>
    public CellKind Cell { get; init; } = CellKind.Lstm;

    /// <summary>The network these options describe for a vocabulary of <paramref name="vocabulary"/> characters.</summary>
    internal RecurrentOptions Network(int vocabulary) => new(vocabulary, Hidden, Layers, Cell: Cell);

    internal IEnumerable<(string Key, string Value)> ToMetadata()
    {
        var ci = CultureInfo.InvariantCulture;
        yield return ("hidden", Hidden.ToString(ci));
        yield return ("layers", Layers.ToString(ci));
        yield return ("dropout", Dropout.ToString("R", ci));
        yield return ("sequenceLength", SequenceLength.ToString(ci));
        yield return ("batch", Batch.ToString(ci));
        yield return ("learningRate", LearningRate.ToString("R", ci));
        yield return ("optimizer", Optimizer.Name());
        yield return ("clipNorm", ClipNorm.ToString("R", ci));
        yield return ("decayEvery", DecayEvery.ToString(ci));
        yield return ("decayFactor", DecayFactor.ToString("R", ci));
        yield return ("seed", Seed.ToString(ci));
    }

    // Every option but Cell, which NetworkMetadata reads with the network's other options (CharCheckpoint.Model).
    internal static CharModelOptions FromMetadata(Checkpoint c)
    {
        var ci = CultureInfo.InvariantCulture;
        try
        {
            return new CharModelOptions
            {
                Hidden = int.Parse(c.Get("hidden"), ci),
                Layers = int.Parse(c.Get("layers"), ci),
                Dropout = float.Parse(c.Get("dropout"), ci),
                SequenceLength = int.Parse(c.Get("sequenceLength"), ci),
                Batch = int.Parse(c.Get("batch"), ci),
                LearningRate = double.Parse(c.Get("learningRate"), ci),
                Optimizer = OptimizerNames.Parse(c.Get("optimizer")),
                ClipNorm = double.Parse(c.Get("clipNorm"), ci),
                DecayEvery = int.Parse(c.Get("decayEvery"), ci),
                DecayFactor = double.Parse(c.Get("decayFactor"), ci),
                Seed = int.Parse(c.Get("seed"), ci),
            };
        }
        catch (Exception e) when (e is FormatException or OverflowException)
        {
            throw new InvalidDataException("The checkpoint's model options are malformed: " + e.Message, e);
        }
    }

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first setting training cannot use.</summary>
    internal void Validate()
    {
        static void Require(bool ok, string name, object value, string expected)
        {
            if (!ok) throw new ArgumentOutOfRangeException(name, value, $"{name} must be {expected}; it is {value}.");
        }
        // Written so that NaN fails every check: a NaN learning rate once trained one step and saved NaN weights.
        Require(Hidden >= 1, nameof(Hidden), Hidden, "≥ 1");
        Require(Layers >= 1, nameof(Layers), Layers, "≥ 1");
        Require(Dropout is >= 0 and < 1, nameof(Dropout), Dropout, "in [0, 1)");
        Require(SequenceLength >= 1, nameof(SequenceLength), SequenceLength, "≥ 1");
        Require(Batch >= 1, nameof(Batch), Batch, "≥ 1");
        Require(LearningRate > 0 && double.IsFinite(LearningRate), nameof(LearningRate), LearningRate, "finite and > 0");
        Require(ClipNorm > 0, nameof(ClipNorm), ClipNorm, "> 0 (∞: no clipping)");
        Require(DecayEvery >= 0, nameof(DecayEvery), DecayEvery, "≥ 0");
        Require(DecayFactor > 0 && double.IsFinite(DecayFactor), nameof(DecayFactor), DecayFactor, "finite and > 0");
        _ = CreateOptimizer();
    }

    internal Optimizer CreateOptimizer() => Optimizer switch
    {
        OptimizerKind.Sgd => new Sgd(),
        OptimizerKind.Momentum => new Sgd(0.9),
        OptimizerKind.Adam => new Adam(),
        OptimizerKind.Adadelta => new Adadelta(),
        _ => throw new ArgumentOutOfRangeException(nameof(Optimizer), Optimizer, $"Unknown optimizer; expected {OptimizerNames.Expected}."),
    };
}

/// <summary>A character-level language model: one-hot characters into an LSTM (or GRU, or RNN) stack, a dense layer, softmax.</summary>
public sealed class CharLanguageModel
{
    private readonly Dictionary<char, int> index;

    public CharLanguageModel(string vocabulary, CharModelOptions options, RecurrentNetwork network, Dense head)
    {
        ArgumentNullException.ThrowIfNull(vocabulary);
        Vocabulary = vocabulary;
        Options = options;
        Network = network;
        Head = head;
        index = vocabulary.Select((c, i) => (c, i)).ToDictionary(t => t.c, t => t.i);
    }

    /// <summary>The distinct UTF-16 characters of the training text, sorted; a character's index is its class.</summary>
    public string Vocabulary { get; }

    public CharModelOptions Options { get; }

    public RecurrentNetwork Network { get; }

    public Dense Head { get; }

    public static CharLanguageModel Create(string text, CharModelOptions options)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(options);
        if (text.Length < 2)
        {
            throw new ArgumentException("The training text needs at least 2 characters.", nameof(text));
        }
        string vocab = new(text.Distinct().Order().ToArray());
        var net = RecurrentNetwork.Create(options.Network(vocab.Length), options.Seed);
        var head = new Dense(options.Hidden, vocab.Length, new SeededRandom(options.Seed + 1));
        return new CharLanguageModel(vocab, options, net, head);
    }

    /// <summary>The class of <paramref name="c"/>, or -1 if it is not in the vocabulary.</summary>
    public int IndexOf(char c) => index.TryGetValue(c, out int i) ? i : -1;

    /// <summary>Primes the model with <paramref name="prime"/> (unknown characters skipped), then samples <paramref name="length"/> characters.</summary>
    public string Sample(string prime, int length, double temperature, SeededRandom random)
    {
        ArgumentNullException.ThrowIfNull(prime);
        ArgumentNullException.ThrowIfNull(random);
        if (temperature <= 0 || !double.IsFinite(temperature))
        {
            throw new ArgumentOutOfRangeException(nameof(temperature), temperature, "temperature must be > 0.");
        }
        int v = Vocabulary.Length;
        StreamState state = Network.CreateStream();
        float[] x = new float[v], h = new float[Options.Hidden], logits = new float[v];
        double[] p = new double[v];
        int current = -1;
        foreach (char c in prime)
        {
            int i = IndexOf(c);
            if (i < 0) continue;
            current = i;
            Feed(i);
        }
        if (current < 0)
        {
            current = random.Next(v);
            Feed(current);
        }
        var sb = new System.Text.StringBuilder(prime);
        for (int n = 0; n < length; n++)
        {
            Head.Forward(h, 1, logits);
            int bad = Finite.FirstNonFinite(logits);
            if (bad >= 0)
            {
                throw new InvalidOperationException($"The model's output is not finite (logit {bad} is {logits[bad]}) after {n} sampled characters: "
                    + "its weights hold NaN or infinity. Sampling stopped rather than print garbage.");
            }
            Losses.Softmax(logits, temperature, p);
            double u = random.NextDouble(), acc = 0;
            current = -1;
            for (int c = 0; c < v; c++)
            {
                acc += p[c];
                if (u < acc) { current = c; break; }
            }
            if (current < 0)
            {
                // The probabilities sum to 1 within rounding, so u fell in the last sliver: the last character that has any.
                current = p.AsSpan().LastIndexOfAnyExcept(0.0);
            }
            sb.Append(Vocabulary[current]);
            Feed(current);
        }
        return sb.ToString();

        void Feed(int i)
        {
            Array.Clear(x);
            x[i] = 1;
            Network.Step(state, x, h);
        }
    }
}
