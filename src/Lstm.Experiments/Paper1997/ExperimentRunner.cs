using Lstm.Core.Training;

namespace Lstm.Experiments.Paper1997;

/// <summary>The outcome of one seeded training run of one model on one task.</summary>
public sealed record TrialResult(bool Solved, long Sequences, double FinalError);

/// <summary>A task of Hochreiter &amp; Schmidhuber 1997, with its success rule and the paper's figures.</summary>
public sealed record ExperimentSpec(string Name, string PaperResult, int Inputs, int Outputs, long MaxSequences, int LstmHidden, int RnnHidden, double LearningRate);

/// <summary>
/// Trains an LSTM (the 1997 cell: no forget gate) or an Elman RNN online, one sequence at a time, with full BPTT
/// (the paper truncated the gradient), until the paper's success rule holds or the budget runs out.
/// </summary>
public static class ExperimentRunner
{
    public static ExperimentSpec Spec(string name, bool quick) => name switch
    {
        "reber" => new("reber", "LSTM 3 blocks × 2 cells, lr 0.5: 100% solved after ~8,440 sequences; Elman (15 hidden): 0% after > 200,000",
            EmbeddedReber.Symbols.Length, EmbeddedReber.Symbols.Length, quick ? 10_000 : 50_000, 6, 15, 0.01),
        "adding" => new("adding", "T = 100: solved after ~74,000 sequences (1 of 2,560 test sequences wrong)",
            2, 1, quick ? 40_000 : 200_000, 8, 8, 0.005),
        "temporal-order" => new("temporal-order", "6a: solved by LSTM (shared/notes quote no sequence count for it)",
            TemporalOrder.Symbols.Length, 4, quick ? 20_000 : 200_000, 8, 8, 0.005),
        _ => throw new ArgumentException($"Unknown experiment '{name}'; expected reber, adding or temporal-order.", nameof(name)),
    };

    public static IReadOnlyList<string> Names { get; } = ["reber", "adding", "temporal-order"];

    public static TrialResult RunTrial(ExperimentSpec spec, CellKind cell, int seed, int addingLength = 100, Action<long, double>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var random = new SeededRandom(seed);
        int hidden = cell == CellKind.Lstm ? spec.LstmHidden : spec.RnnHidden;
        var options = new RecurrentOptions(spec.Inputs, hidden, Cell: cell, ForgetGate: cell == CellKind.Rnn);
        RecurrentNetwork net = RecurrentNetwork.Create(options, seed);
        if (cell == CellKind.Lstm)
        {
            // As in the paper: negative input-gate biases (-3 for the first half of the cells, -6 for the rest) keep the
            // input gates nearly shut at first, so the carousel is not flooded before it learns what to store.
            net.UpdateParameters(p =>
            {
                for (int j = 0; j < hidden; j++) p["bias_ih_l0"][j] = j < hidden / 2 ? -3f : -6f;
            });
        }
        var head = new Dense(hidden, spec.Outputs, random);
        var optimizer = new Adam();

        TaskSequence Next() => spec.Name switch
        {
            "reber" => EmbeddedReber.ToSequence(EmbeddedReber.Generate(random)),
            "adding" => AddingProblem.Generate(addingLength, random),
            _ => TemporalOrder.Generate(random),
        };

        TaskSequence[] reberTrain = [], reberTest = [];
        if (spec.Name == "reber")
        {
            reberTrain = Enumerable.Range(0, 256).Select(_ => Next()).ToArray();
            reberTest = Enumerable.Range(0, 256).Select(_ => Next()).ToArray();
        }

        var window = new Queue<(bool Correct, double Error)>();
        double windowError = 0;
        int windowCorrect = 0;
        for (long n = 1; n <= spec.MaxSequences; n++)
        {
            TaskSequence s = spec.Name == "reber" ? reberTrain[random.Next(reberTrain.Length)] : Next();
            var (correct, error) = TrainOne(net, head, optimizer, s, spec);
            window.Enqueue((correct, error));
            windowError += error;
            windowCorrect += correct ? 1 : 0;
            if (window.Count > 2000)
            {
                var old = window.Dequeue();
                windowError -= old.Error;
                windowCorrect -= old.Correct ? 1 : 0;
            }
            if (n % 500 == 0) progress?.Invoke(n, windowError / window.Count);

            bool solved = spec.Name switch
            {
                // Every symbol of the 256 training and 256 test strings predicted, checked every 500 sequences.
                "reber" => n % 500 == 0 && reberTrain.Concat(reberTest).All(q => PredictsAllLegal(net, head, q)),
                // The paper's stopping rule: mean training error below the bound and the last 2,000 sequences correct.
                _ => window.Count == 2000 && windowCorrect == 2000 && windowError / 2000 < (spec.Name == "adding" ? 0.01 : 0.1),
            };
            if (solved)
            {
                return new TrialResult(true, n, windowError / window.Count);
            }
        }
        return new TrialResult(false, spec.MaxSequences, windowError / Math.Max(1, window.Count));
    }

    private static (bool Correct, double Error) TrainOne(RecurrentNetwork net, Dense head, Optimizer optimizer, TaskSequence s, ExperimentSpec spec)
    {
        int t = s.Steps, o = spec.Outputs;
        using TrainingTrace trace = net.ForwardTraining(s.Inputs, t, 1);
        float[] y = trace.Result.Output;
        float[] outputs = new float[t * o], dOut = new float[t * o];
        head.Forward(y, t, outputs);
        bool correct;
        double error;
        if (spec.Name == "adding")
        {
            // Identity output read at the last step only; squared error.
            float[] last = [outputs[t - 1]];
            float[] dLast = new float[1];
            error = Losses.MeanSquaredError(last, s.RegressionTarget, dLast);
            dOut[t - 1] = dLast[0];
            correct = Math.Abs(last[0] - s.RegressionTarget[0]) < 0.04;
        }
        else
        {
            error = Losses.SoftmaxCrossEntropy(outputs, t, o, s.ClassTargets, dOut);
            if (spec.Name == "temporal-order")
            {
                // The paper's rule on the final outputs: every output within 0.3 of the one-hot target.
                Span<double> p = stackalloc double[o];
                Losses.Softmax(outputs.AsSpan((t - 1) * o, o), 1, p);
                correct = true;
                double sq = 0;
                for (int c = 0; c < o; c++)
                {
                    double target = c == s.ClassTargets[t - 1] ? 1 : 0;
                    correct &= Math.Abs(p[c] - target) < 0.3;
                    sq += (p[c] - target) * (p[c] - target);
                }
                error = sq / o;
            }
            else
            {
                correct = true;
            }
        }
        var gradients = HeadedGradients.Backward(net, head, trace, dOut, t);
        gradients.ClipByGlobalNorm(1.0);
        gradients.Apply(net, head, optimizer, spec.LearningRate);
        return (correct, error);
    }

    /// <summary>At every step, the outputs of all legal next symbols exceed those of every illegal one.</summary>
    internal static bool PredictsAllLegal(RecurrentNetwork net, Dense head, TaskSequence s)
    {
        int t = s.Steps, o = EmbeddedReber.Symbols.Length;
        float[] y = net.Forward(s.Inputs, t, 1).Output;
        float[] outputs = new float[t * o];
        head.Forward(y, t, outputs);
        for (int i = 0; i < t; i++)
        {
            float minLegal = float.PositiveInfinity, maxIllegal = float.NegativeInfinity;
            for (int c = 0; c < o; c++)
            {
                float v = outputs[(i * o) + c];
                if (s.Legal[i][c]) minLegal = Math.Min(minLegal, v); else maxIllegal = Math.Max(maxIllegal, v);
            }
            if (minLegal <= maxIllegal) return false;
        }
        return true;
    }
}
