using System.CommandLine;
using System.Diagnostics;
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
        var output = new Option<string>("--out") { Description = "Checkpoint to write (atomically, every --sample-every steps and at the end).", DefaultValueFactory = _ => "lstm-model.ckpt" };
        var resume = new Option<FileInfo?>("--resume") { Description = "Checkpoint to continue from (same text and settings)." };
        var steps = new Option<int>("--steps") { Description = "Training steps (each: --batch lanes × --seq-len characters).", DefaultValueFactory = _ => 1000 };
        var maxSeconds = new Option<double>("--max-seconds") { Description = "Stop after this much wall time even if --steps is not reached.", DefaultValueFactory = _ => 170 };
        var hidden = new Option<int>("--hidden") { Description = "LSTM hidden size H.", DefaultValueFactory = _ => 128 };
        var layers = new Option<int>("--layers") { Description = "Stacked LSTM layers.", DefaultValueFactory = _ => 2 };
        var seqLen = new Option<int>("--seq-len") { Description = "Truncated BPTT length: the gradient is cut every this many steps; the state carries on.", DefaultValueFactory = _ => 50 };
        var batch = new Option<int>("--batch") { Description = "Lanes read in parallel from evenly spaced offsets.", DefaultValueFactory = _ => 32 };
        var lr = new Option<double>("--lr") { Description = "Learning rate.", DefaultValueFactory = _ => 3e-3 };
        var optimizer = new Option<string>("--optimizer") { Description = "adam, sgd, momentum or adadelta.", DefaultValueFactory = _ => "adam" };
        optimizer.AcceptOnlyFromAmong("adam", "sgd", "momentum", "adadelta");
        var dropout = new Option<float>("--dropout") { Description = "Dropout between stacked layers (training only).", DefaultValueFactory = _ => 0f };
        var clip = new Option<double>("--clip") { Description = "Clip gradients to this global L2 norm.", DefaultValueFactory = _ => 5 };
        var decayEvery = new Option<int>("--decay-every") { Description = "Multiply the learning rate by --decay-factor every this many steps (0: constant).", DefaultValueFactory = _ => 0 };
        var decayFactor = new Option<double>("--decay-factor") { Description = "Step-decay factor.", DefaultValueFactory = _ => 0.5 };
        var sampleEvery = new Option<int>("--sample-every") { Description = "Print a sample and save a checkpoint every this many steps.", DefaultValueFactory = _ => 250 };
        var plot = new Option<string>("--plot") { Description = "PNG of the loss curve.", DefaultValueFactory = _ => "loss.png" };
        var seed = new Option<int>("--seed") { Description = "Seed: the same seed and text give bitwise the same weights.", DefaultValueFactory = _ => 1 };

        var command = new Command("train", "Train a character-level LSTM language model and watch it learn.")
        {
            text, output, resume, steps, maxSeconds, hidden, layers, seqLen, batch, lr, optimizer, dropout, clip, decayEvery, decayFactor, sampleEvery, plot, seed,
        };
        command.SetAction(parse =>
        {
            string corpus = parse.GetValue(text) is { } file ? File.ReadAllText(file.FullName) : DefaultCorpus.Generate();
            var options = new CharModelOptions
            {
                Hidden = parse.GetValue(hidden),
                Layers = parse.GetValue(layers),
                SequenceLength = parse.GetValue(seqLen),
                Batch = parse.GetValue(batch),
                LearningRate = parse.GetValue(lr),
                Optimizer = parse.GetValue(optimizer)!,
                Dropout = parse.GetValue(dropout),
                ClipNorm = parse.GetValue(clip),
                DecayEvery = parse.GetValue(decayEvery),
                DecayFactor = parse.GetValue(decayFactor),
                Seed = parse.GetValue(seed),
            };
            return Run(corpus, parse.GetValue(text)?.Name ?? "embedded default corpus", options, parse.GetValue(resume)?.FullName,
                parse.GetValue(output)!, parse.GetValue(steps), parse.GetValue(maxSeconds), parse.GetValue(sampleEvery), parse.GetValue(plot)!);
        });
        return command;
    }

    private static int Run(string corpus, string corpusName, CharModelOptions options, string? resume, string output, int steps, double maxSeconds, int sampleEvery, string plotPath)
    {
        if (steps < 0 || sampleEvery <= 0 || options.Hidden <= 0 || options.Layers <= 0 || options.SequenceLength <= 0 || options.Batch <= 0)
        {
            AnsiConsole.MarkupLine("[red]error:[/] --steps must be ≥ 0; --sample-every, --hidden, --layers, --seq-len and --batch ≥ 1.");
            return 2;
        }
        CharTrainer trainer;
        try
        {
            trainer = resume is null ? new CharTrainer(CharLanguageModel.Create(corpus, options), corpus) : CharTrainer.Resume(resume, corpus);
        }
        catch (Exception e) when (e is ArgumentException or InvalidDataException or IOException)
        {
            AnsiConsole.MarkupLineInterpolated($"[red]error:[/] {e.Message}");
            return 2;
        }
        CharLanguageModel model = trainer.Model;
        int parameters = model.Network.ParameterInfos.Sum(i => i.Length) + model.Head.Weight.Length + model.Head.Bias.Length;

        var setup = new Table().Border(TableBorder.Rounded).AddColumns("setting", "value");
        setup.AddRow("corpus", $"{Markup.Escape(corpusName)}: {corpus.Length:N0} characters, {model.Vocabulary.Length} distinct");
        setup.AddRow("model", $"{model.Options.Layers} × LSTM({model.Options.Hidden}) → dense({model.Vocabulary.Length}) → softmax; {parameters:N0} parameters");
        setup.AddRow("training", $"{model.Options.Optimizer}, lr {model.Options.LearningRate}, batch {model.Options.Batch} × {model.Options.SequenceLength} characters (truncated BPTT), clip {model.Options.ClipNorm}");
        setup.AddRow("kernels", SimdPaths.Name(model.Network.Path));
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
                        trainer.Save(output);
                        string sample = model.Sample("The ", 160, 0.8, sampler).ReplaceLineEndings(" ");
                        AnsiConsole.MarkupLineInterpolated($"[grey]step {trainer.Step:N0}, loss {recent:F3}:[/] {sample}");
                    }
                }
                task.Value = task.MaxValue;
            });

        if (failure is not null)
        {
            AnsiConsole.MarkupLineInterpolated($"[red]error:[/] {failure}");
            AnsiConsole.MarkupLineInterpolated($"The last good checkpoint is kept: {(File.Exists(output) ? output : "none was written yet")}.");
            return 3;
        }
        trainer.Save(output);
        if (losses.Count > 0)
        {
            LossPlot.Save(plotPath, losses, $"lstm train: {model.Options.Layers} × LSTM({model.Options.Hidden}) on {corpusName}");
        }

        double first = losses.Take(20).DefaultIfEmpty((0, double.NaN)).Average(l => l.Loss);
        double last = losses.Skip(Math.Max(0, losses.Count - 20)).DefaultIfEmpty((0, double.NaN)).Average(l => l.Loss);
        var summary = new Table().Border(TableBorder.Rounded).AddColumns("result", "value");
        summary.AddRow("steps", $"{trainer.Step - startStep:N0} in {clock.Elapsed.TotalSeconds:F1} s ({(trainer.Step - startStep) / clock.Elapsed.TotalSeconds:F1} steps/s)");
        summary.AddRow("loss, first 20 → last 20 steps", $"{first:F3} → {last:F3} nats per character (uniform guessing: {Math.Log(model.Vocabulary.Length):F3})");
        summary.AddRow("checkpoint", Markup.Escape(output));
        summary.AddRow("loss curve", losses.Count > 0 ? Markup.Escape(plotPath) : "–");
        AnsiConsole.Write(summary);
        AnsiConsole.MarkupLine("[bold]sample[/] (temperature 0.8):");
        AnsiConsole.WriteLine(model.Sample("The ", 400, 0.8, sampler));
        return 0;
    }
}
