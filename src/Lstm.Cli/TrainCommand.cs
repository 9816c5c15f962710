using System.CommandLine;
using System.Diagnostics;
using Lstm.Core;
using Lstm.Experiments;
using Lstm.Experiments.CharModel;
using Lstm.Core.Training;
using Lstm.Simd;
using Spectre.Console;

namespace Lstm.Cli;

/// <summary>`lstm train`: a character-level language model, on the embedded default corpus unless given a text.</summary>
public static class TrainCommand
{
    public static Command Create()
    {
        var text = new Option<FileInfo?>("--text") { Description = "UTF-8 text to train on (default: the embedded corpus this project generates)." };
        var outputOption = new Option<string>("--out") { Description = "Checkpoint to write (atomically, every --sample-every steps and at the end).", DefaultValueFactory = _ => "lstm-model.ckpt" };
        var resume = new Option<FileInfo?>("--resume") { Description = "Checkpoint to continue from (same text and settings)." };
        var steps = new Option<int>("--steps") { Description = "Training steps (each: --batch lanes × --seq-len characters).", DefaultValueFactory = _ => 1000 };
        var maxSeconds = new Option<double>("--max-seconds") { Description = "Stop after this much wall time even if --steps is not reached.", DefaultValueFactory = _ => 170 };
        var hidden = new Option<int>("--hidden") { Description = "Hidden size H.", DefaultValueFactory = _ => 128 };
        var layers = new Option<int>("--layers") { Description = "Stacked recurrent layers.", DefaultValueFactory = _ => 2 };
        var seqLen = new Option<int>("--seq-len") { Description = "Truncated BPTT length: the gradient is cut every this many steps; the state carries on.", DefaultValueFactory = _ => 50 };
        var batch = new Option<int>("--batch") { Description = "Lanes read in parallel from evenly spaced offsets.", DefaultValueFactory = _ => 32 };
        var lr = new Option<double>("--lr") { Description = "Learning rate.", DefaultValueFactory = _ => 3e-3 };
        var optimizer = new Option<string>("--optimizer") { Description = "adam, sgd, momentum or adadelta.", DefaultValueFactory = _ => "adam" };
        optimizer.AcceptOnlyFromAmong([.. OptimizerNames.All]); // the parser's error names the allowed words
        var dropout = new Option<float>("--dropout") { Description = "Dropout between stacked layers (training only).", DefaultValueFactory = _ => 0f };
        var clip = new Option<double>("--clip") { Description = "Clip gradients to this global L2 norm.", DefaultValueFactory = _ => 5 };
        var decayEvery = new Option<int>("--decay-every") { Description = "Multiply the learning rate by --decay-factor every this many steps (0: constant).", DefaultValueFactory = _ => 0 };
        var decayFactor = new Option<double>("--decay-factor") { Description = "Step-decay factor.", DefaultValueFactory = _ => 0.5 };
        var sampleEvery = new Option<int>("--sample-every") { Description = "Print a sample and save a checkpoint every this many steps.", DefaultValueFactory = _ => 250 };
        var plot = new Option<string>("--plot") { Description = "PNG of the loss curve; none: no plot.", DefaultValueFactory = _ => "loss.png" };
        var cell = new Option<string>("--cell") { Description = "The recurrent cell: lstm, gru (PyTorch's nn.GRU) or rnn (Elman, tanh).", DefaultValueFactory = _ => "lstm" };
        cell.AcceptOnlyFromAmong("lstm", "gru", "rnn");
        var seed = new Option<int>("--seed") { Description = "Seed: the same seed and text give bitwise the same weights.", DefaultValueFactory = _ => 1 };

        var command = new Command("train", "Train a character-level LSTM language model and watch it learn.")
        {
            text, outputOption, resume, steps, maxSeconds, hidden, layers, seqLen, batch, lr, optimizer, dropout, clip, decayEvery, decayFactor, sampleEvery, plot, seed, cell,
        };
        command.SetAction(parse =>
        {
            var options = new CharModelOptions
            {
                Hidden = parse.GetValue(hidden),
                Layers = parse.GetValue(layers),
                SequenceLength = parse.GetValue(seqLen),
                Batch = parse.GetValue(batch),
                LearningRate = parse.GetValue(lr),
                Optimizer = OptimizerNames.Parse(parse.GetValue(optimizer)!),
                Dropout = parse.GetValue(dropout),
                ClipNorm = parse.GetValue(clip),
                DecayEvery = parse.GetValue(decayEvery),
                DecayFactor = parse.GetValue(decayFactor),
                Seed = parse.GetValue(seed),
                Cell = CellOf(parse.GetValue(cell)!),
            };
            int n = parse.GetValue(steps), every = parse.GetValue(sampleEvery);
            double seconds = parse.GetValue(maxSeconds);
            CheckSettings(options, n, every, seconds);

            // Every file is checked before any work: a bad --out or --plot used to surface at the first save, or after training.
            string? textPath = parse.GetValue(text) is { } t ? Usage.ReadableFile(t, "--text") : null;
            string? resumePath = parse.GetValue(resume) is { } r ? Usage.ReadableFile(r, "--resume") : null;
            string output = parse.GetValue(outputOption)!;
            Usage.WritableFile(output, "--out");
            string? plotPath = PlotTarget(parse.GetValue(plot)!, parse.GetResult(plot) is { Implicit: false });

            // On --resume the checkpoint's settings hold; an option given with another value would be silently dropped.
            List<string> Conflicts(CharModelOptions saved)
            {
                var conflicts = new List<string>();
                void Check<T>(Option<T> option, T savedValue)
                {
                    if (parse.GetResult(option) is { Implicit: false } && !EqualityComparer<T>.Default.Equals(parse.GetValue(option), savedValue))
                    {
                        conflicts.Add($"{option.Name} {parse.GetValue(option)} (the checkpoint has {savedValue})");
                    }
                }
                Check(hidden, saved.Hidden);
                Check(layers, saved.Layers);
                Check(seqLen, saved.SequenceLength);
                Check(batch, saved.Batch);
                Check(lr, saved.LearningRate);
                Check(optimizer, saved.Optimizer.Name());
                Check(dropout, saved.Dropout);
                Check(clip, saved.ClipNorm);
                Check(decayEvery, saved.DecayEvery);
                Check(decayFactor, saved.DecayFactor);
                Check(seed, saved.Seed);
                Check(cell, CellName(saved.Cell).ToLowerInvariant());
                return conflicts;
            }

            string corpus = textPath is null ? DefaultCorpus.Generate() : File.ReadAllText(textPath);
            return Run(corpus, parse.GetValue(text)?.Name ?? "embedded default corpus", options, resumePath, Conflicts, output, n, seconds, every, plotPath);
        });
        return command;
    }

    private static CellKind CellOf(string name) => name switch { "gru" => CellKind.Gru, "rnn" => CellKind.Rnn, _ => CellKind.Lstm };

    internal static string CellName(CellKind cell) => cell switch { CellKind.Gru => "GRU", CellKind.Rnn => "RNN", _ => "LSTM" };

    private static void CheckSettings(CharModelOptions o, int steps, int sampleEvery, double maxSeconds)
    {
        // Written so that NaN fails every check.
        Usage.Require(steps >= 0, $"--steps must be ≥ 0; it is {steps}.");
        Usage.Require(sampleEvery >= 1, $"--sample-every must be ≥ 1; it is {sampleEvery}.");
        Usage.Require(maxSeconds > 0, $"--max-seconds must be > 0; it is {maxSeconds}.");
        Usage.Require(o.Hidden >= 1, $"--hidden must be ≥ 1; it is {o.Hidden}.");
        Usage.Require(o.Layers >= 1, $"--layers must be ≥ 1; it is {o.Layers}.");
        Usage.Require(o.SequenceLength >= 1, $"--seq-len must be ≥ 1; it is {o.SequenceLength}.");
        Usage.Require(o.Batch >= 1, $"--batch must be ≥ 1; it is {o.Batch}.");
        Usage.Require(o.LearningRate > 0 && double.IsFinite(o.LearningRate), $"--lr must be finite and > 0; it is {o.LearningRate}.");
        Usage.Require(o.Dropout is >= 0 and < 1, $"--dropout must be in [0, 1); it is {o.Dropout}.");
        Usage.Require(o.ClipNorm > 0, $"--clip must be > 0 (Infinity: no clipping); it is {o.ClipNorm}.");
        Usage.Require(o.DecayEvery >= 0, $"--decay-every must be ≥ 0; it is {o.DecayEvery}.");
        Usage.Require(o.DecayFactor > 0 && double.IsFinite(o.DecayFactor), $"--decay-factor must be finite and > 0; it is {o.DecayFactor}.");
    }

    // Where the loss curve goes, or null for none. The plot draws with native libraries a NativeAOT binary may lack:
    // asked for by name, it must work (checked now, not after training); by default, training goes on without it.
    private static string? PlotTarget(string plot, bool given)
    {
        if (plot == LossPlot.None) return null;
        Usage.WritableFile(plot, "--plot");
        if (LossPlot.Unavailable() is { } why)
        {
            string help = "the loss plot needs libSkiaSharp.so beside the NativeAOT binary (dotnet publish puts it there)";
            Usage.Require(!given, $"--plot {plot}: plotting is unavailable here: {why}; {help}. Pass --plot none to train without it.");
            Console.Error.WriteLine($"note: no loss plot: {why}; {help}. Training goes on without it; --plot none silences this note.");
            return null;
        }
        return plot;
    }

    private static int Run(string corpus, string corpusName, CharModelOptions options, string? resume, Func<CharModelOptions, List<string>> conflicts,
        string output, int steps, double maxSeconds, int sampleEvery, string? plotPath)
    {
        CharTrainer trainer = resume is null ? new CharTrainer(CharLanguageModel.Create(corpus, options), corpus) : CharTrainer.Resume(resume, corpus);
        if (resume is not null && conflicts(trainer.Model.Options) is { Count: > 0 } refused)
        {
            return Usage.Fail($"--resume {resume}: a resumed run keeps the checkpoint's settings; these options differ: {string.Join(", ", refused)}. Leave them out.");
        }
        CharLanguageModel model = trainer.Model;
        int parameters = model.Network.ParameterInfos.Sum(i => i.Length) + model.Head.Weight.Length + model.Head.Bias.Length;

        var setup = new Table().Border(TableBorder.Rounded).AddColumns("setting", "value");
        setup.AddRow("corpus", $"{Markup.Escape(corpusName)}: {corpus.Length:N0} characters, {model.Vocabulary.Length} distinct");
        setup.AddRow("model", $"{model.Options.Layers} × {CellName(model.Options.Cell)}({model.Options.Hidden}) → dense({model.Vocabulary.Length}) → softmax; {parameters:N0} parameters");
        setup.AddRow("training", $"{model.Options.Optimizer.Name()}, lr {model.Options.LearningRate}, batch {model.Options.Batch} × {model.Options.SequenceLength} characters (truncated BPTT), clip {model.Options.ClipNorm}");
        setup.AddRow("kernels", SimdPaths.Name(model.Network.KernelPath));
        setup.AddRow("plan", resume is null ? $"{steps:N0} steps or {maxSeconds:F0} s" : $"resume at step {trainer.Step:N0}, {steps:N0} more steps or {maxSeconds:F0} s");
        AnsiConsole.Write(setup);

        var losses = new List<(long Step, double Loss)>();
        var sampler = new SeededRandom(options.Seed + 99);
        var clock = Stopwatch.StartNew();
        long startStep = trainer.Step, target = trainer.Step + steps;
        string? failure = null;
        AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                ProgressTask task = ctx.AddTask("training", maxValue: Math.Max(1, steps));
                while (trainer.Step < target && clock.Elapsed.TotalSeconds < maxSeconds)
                {
                    double loss;
                    try
                    {
                        loss = trainer.TrainStep();
                        if (trainer.Step % sampleEvery == 0) trainer.Save(output); // refuses, leaving the last one, if anything is not finite
                    }
                    catch (TrainingDivergedException e)
                    {
                        failure = e.Message;
                        return;
                    }
                    losses.Add((trainer.Step, loss));
                    double rate = (trainer.Step - startStep) / clock.Elapsed.TotalSeconds;
                    double recent = losses.Skip(Math.Max(0, losses.Count - 20)).Average(l => l.Loss);
                    task.Description = $"step {trainer.Step:N0}  loss {recent:F3}  {rate:F1} steps/s";
                    task.Value = trainer.Step - startStep;
                    if (trainer.Step % sampleEvery == 0)
                    {
                        string sample = model.Sample("The ", 160, 0.8, sampler).ReplaceLineEndings(" ");
                        AnsiConsole.MarkupLineInterpolated($"[grey]step {trainer.Step:N0}, loss {recent:F3}:[/] {sample}");
                    }
                }
                task.Value = task.MaxValue;
            });

        if (failure is null)
        {
            try
            {
                trainer.Save(output);
            }
            catch (TrainingDivergedException e)
            {
                failure = e.Message;
            }
        }
        if (failure is not null)
        {
            Console.Error.WriteLine($"error: {failure.ReplaceLineEndings(" ")}");
            Console.Error.WriteLine($"The last good checkpoint is kept: {(File.Exists(output) ? output : "none was written yet")}.");
            return 3;
        }
        if (losses.Count > 0 && plotPath is not null)
        {
            LossPlot.Save(plotPath, losses, $"lstm train: {model.Options.Layers} × {CellName(model.Options.Cell)}({model.Options.Hidden}) on {corpusName}");
        }

        double first = losses.Take(20).DefaultIfEmpty((0, double.NaN)).Average(l => l.Loss);
        double last = losses.Skip(Math.Max(0, losses.Count - 20)).DefaultIfEmpty((0, double.NaN)).Average(l => l.Loss);
        var summary = new Table().Border(TableBorder.Rounded).AddColumns("result", "value");
        summary.AddRow("steps", $"{trainer.Step - startStep:N0} in {clock.Elapsed.TotalSeconds:F1} s ({(trainer.Step - startStep) / clock.Elapsed.TotalSeconds:F1} steps/s)");
        summary.AddRow("loss, first 20 → last 20 steps", $"{first:F3} → {last:F3} nats per character (uniform guessing: {Math.Log(model.Vocabulary.Length):F3})");
        summary.AddRow("checkpoint", Markup.Escape(output));
        summary.AddRow("loss curve", losses.Count > 0 && plotPath is not null ? Markup.Escape(plotPath) : "–");
        AnsiConsole.Write(summary);
        AnsiConsole.MarkupLine("[bold]sample[/] (temperature 0.8):");
        AnsiConsole.WriteLine(model.Sample("The ", 400, 0.8, sampler));
        return 0;
    }
}
