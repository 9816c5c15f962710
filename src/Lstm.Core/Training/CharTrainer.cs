using System.Globalization;

namespace Lstm.Core.Training;

/// <summary>Training stopped because the loss or a gradient was not finite.</summary>
public sealed class TrainingDivergedException(string message) : InvalidOperationException(message);

/// <summary>
/// Trains a <see cref="CharLanguageModel"/> by truncated BPTT: B lanes read the text at evenly spaced offsets; each
/// step feeds every lane the next <see cref="CharModelOptions.SequenceLength"/> characters, carries h and c forward,
/// and cuts the gradient there. Everything that decides the future (parameters, optimizer state, RNG, positions,
/// carried state) is in the checkpoint, so a resumed run continues bit for bit like an uninterrupted one.
/// </summary>
public sealed class CharTrainer
{
    private readonly string text;
    private readonly int[] codes;
    private readonly Optimizer optimizer;
    private readonly SeededRandom random;
    private readonly long[] positions;
    private float[] carriedH, carriedC;
    private string? poisonedAt; // set when an update made a parameter non-finite: nothing may be saved after that

    public CharTrainer(CharLanguageModel model, string text)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(text);
        model.Options.Validate();
        Model = model;
        this.text = text;
        codes = text.Select(c => model.IndexOf(c) is int i and >= 0 ? i : throw new ArgumentException($"Character U+{(int)c:X4} is not in the model's vocabulary.", nameof(text))).ToArray();
        CharModelOptions o = model.Options;
        if (codes.Length < o.SequenceLength + 1)
        {
            throw new ArgumentException($"The text has {codes.Length} characters; training needs at least SequenceLength + 1 = {o.SequenceLength + 1}.", nameof(text));
        }
        optimizer = o.CreateOptimizer();
        random = new SeededRandom(o.Seed + 2);
        positions = Enumerable.Range(0, o.Batch).Select(b => (long)b * (codes.Length - 1) / o.Batch).ToArray();
        int state = o.Layers * o.Batch * o.Hidden;
        carriedH = new float[state];
        carriedC = model.Network.Options.HasCellState ? new float[state] : [];
    }

    public CharLanguageModel Model { get; }

    /// <summary>Optimizer steps taken.</summary>
    public long Step { get; private set; }

    /// <summary>
    /// One truncated-BPTT step over all lanes. Returns the mean cross-entropy (nats per character). Throws
    /// <see cref="TrainingDivergedException"/> before touching the parameters if the loss or the gradient is not finite.
    /// </summary>
    public double TrainStep()
    {
        CharModelOptions o = Model.Options;
        int t = o.SequenceLength, b = o.Batch, v = Model.Vocabulary.Length;
        float[] x = new float[t * b * v];
        int[] targets = new int[t * b];
        for (int lane = 0; lane < b; lane++)
        {
            for (int s = 0; s < t; s++)
            {
                long p = (positions[lane] + s) % (codes.Length - 1);
                x[(((s * b) + lane) * v) + codes[p]] = 1;   // x is [T, B, V], one-hot
                targets[(s * b) + lane] = codes[p + 1];     // the next character
            }
        }

        RecurrentNetwork net = Model.Network;
        using TrainingTrace trace = net.ForwardTraining(x, t, b, carriedH, carriedC, o.Dropout, random);
        float[] logits = new float[t * b * v], dLogits = new float[t * b * v];
        Model.Head.Forward(trace.Result.Output, t * b, logits);
        double loss = Losses.SoftmaxCrossEntropy(logits, t * b, v, targets, dLogits);

        var gradients = HeadedGradients.Backward(net, Model.Head, trace, dLogits, t * b);
        double norm = gradients.ClipByGlobalNorm(o.ClipNorm);
        if (!double.IsFinite(loss) || !double.IsFinite(norm))
        {
            throw new TrainingDivergedException($"Training diverged at step {Step + 1}: loss {loss}, gradient norm {norm}. The parameters were not updated.");
        }
        double learningRate = new LearningRateSchedule(o.LearningRate, o.DecayEvery, o.DecayFactor).At(Step);
        if (gradients.Apply(net, Model.Head, optimizer, learningRate) is { } poisoned)
        {
            poisonedAt = $"{poisoned} after the update of step {Step + 1}";
            throw new TrainingDivergedException($"Training diverged at step {Step + 1}: loss {loss} and gradient norm {norm} were finite, but the update "
                + $"(learning rate {learningRate}) made {poisoned}. This trainer's parameters are no longer usable and it will not save them.");
        }

        carriedH = trace.Result.Hn;
        carriedC = trace.Result.Cn;
        for (int lane = 0; lane < b; lane++)
        {
            positions[lane] = (positions[lane] + t) % (codes.Length - 1);
        }
        Step++;
        return loss;
    }

    /// <summary>
    /// Writes everything needed to continue (or to sample) to <paramref name="path"/>, atomically. Throws
    /// <see cref="TrainingDivergedException"/>, and leaves the file as it was, if any value it would write is NaN or
    /// infinite: a checkpoint is always one worth resuming.
    /// </summary>
    public void Save(string path)
    {
        if (poisonedAt is not null)
        {
            throw new TrainingDivergedException($"Not saved to {path}: {poisonedAt}.");
        }
        var c = new Checkpoint();
        var ci = CultureInfo.InvariantCulture;
        c.Metadata["kind"] = "char-lm";
        c.Metadata["vocabulary"] = Model.Vocabulary;
        c.Metadata["step"] = Step.ToString(ci);
        c.Metadata["rng"] = random.State.ToString(ci);
        c.Metadata["optimizerSteps"] = optimizer.Steps.ToString(ci);
        c.Metadata["positions"] = string.Join(",", positions.Select(p => p.ToString(ci)));
        c.Metadata["textLength"] = codes.Length.ToString(ci);
        foreach (var (k, v) in Model.Options.ToMetadata()) c.Metadata[k] = v;
        foreach (ParameterInfo info in Model.Network.ParameterInfos) c.Tensors["net." + info.Name] = Model.Network.GetParameter(info.Name);
        c.Tensors["head.weight"] = Model.Head.Weight;
        c.Tensors["head.bias"] = Model.Head.Bias;
        c.Tensors["state.h"] = carriedH;
        c.Tensors["state.c"] = carriedC;
        for (int i = 0; i < optimizer.State.Count; i++)
            for (int j = 0; j < optimizer.State[i].Length; j++)
                c.Tensors[string.Create(ci, $"opt.{i}.{j}")] = optimizer.State[i][j];
        if (Finite.Describe(c.Tensors) is { } poisoned)
        {
            throw new TrainingDivergedException($"Not saved to {path}: {poisoned} at step {Step}; the file is left as it was.");
        }
        c.Save(path);
    }

    /// <summary>Loads a model saved by <see cref="Save"/> (for sampling).</summary>
    public static CharLanguageModel LoadModel(string path) => LoadModel(Checkpoint.Load(path));

    /// <summary>Continues training from a checkpoint on <paramref name="text"/> (which must use the same vocabulary).</summary>
    public static CharTrainer Resume(string path, string text) => Resume(Checkpoint.Load(path), text);

    /// <summary>
    /// Continues training from a checkpoint already read. Everything it says is checked first (options, positions,
    /// carried state, optimizer state): a bad value is an <see cref="InvalidDataException"/> here, never an error later.
    /// </summary>
    public static CharTrainer Resume(Checkpoint checkpoint, string text)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        ArgumentNullException.ThrowIfNull(text);
        var (options, vocabulary, net) = CharCheckpoint.Model(checkpoint);
        var saved = CharCheckpoint.Training(checkpoint, options, net);
        if (saved.TextLength != text.Length || text.AsSpan().ContainsAnyExcept(System.Buffers.SearchValues.Create(vocabulary)))
        {
            throw new InvalidDataException("The checkpoint was trained on another text (another length or vocabulary); --resume needs the same --text.");
        }
        CharLanguageModel model = LoadModel(checkpoint);
        try
        {
            model.Options.Validate();
        }
        catch (ArgumentOutOfRangeException e)
        {
            throw new InvalidDataException($"The checkpoint's training settings are invalid: {e.Message}", e);
        }
        var trainer = new CharTrainer(model, text)
        {
            Step = saved.Step,
        };
        trainer.SetRandomState(saved.Rng);
        saved.Positions.CopyTo(trainer.positions, 0);
        trainer.carriedH = checkpoint.Tensor("state.h");
        trainer.carriedC = checkpoint.Tensor("state.c");
        trainer.optimizer.Restore(saved.OptimizerState, saved.OptimizerSteps);
        return trainer;
    }

    private void SetRandomState(ulong state) => random.State = state;

    /// <summary>
    /// The model of a checkpoint already read (for sampling). Its options and every tensor's length are checked before
    /// anything is allocated by them: a bad value is an <see cref="InvalidDataException"/>.
    /// </summary>
    public static CharLanguageModel LoadModel(Checkpoint checkpoint)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        var (o, vocab, options) = CharCheckpoint.Model(checkpoint);
        Checkpoint c = checkpoint;
        try
        {
            var values = ParameterLayout.For(options).ToDictionary(i => i.Name, i => c.Tensor("net." + i.Name));
            var net = RecurrentNetwork.FromParameters(options, values);
            var head = new Dense(o.Hidden, vocab.Length, new SeededRandom(0));
            float[] w = c.Tensor("head.weight"), b = c.Tensor("head.bias");
            if (w.Length != head.Weight.Length || b.Length != head.Bias.Length)
            {
                throw new InvalidDataException("The checkpoint's output layer does not match its vocabulary and hidden size.");
            }
            w.CopyTo(head.Weight, 0);
            b.CopyTo(head.Bias, 0);
            head.Update();
            return new CharLanguageModel(vocab, o, net, head);
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException("The checkpoint's parameters do not match its options: " + e.Message, e);
        }
    }
}
