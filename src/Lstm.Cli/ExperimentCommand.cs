using System.CommandLine;
using Lstm.Experiments;
using Lstm.Experiments.CharModel;
using Lstm.Core;
using Lstm.Experiments.Paper1997;
using Spectre.Console;

namespace Lstm.Cli;

/// <summary>`lstm experiment NAME`: an experiment of Hochreiter &amp; Schmidhuber 1997, LSTM beside an Elman RNN.</summary>
public static class ExperimentCommand
{
    public static Command Create()
    {
        var name = new Argument<string>("name") { Description = "reber, adding or temporal-order." };
        name.AcceptOnlyFromAmong([.. ExperimentRunner.Names]);
        var trials = new Option<int>("--trials") { Description = "Seeded trials per model.", DefaultValueFactory = _ => 3 };
        var quick = new Option<bool>("--quick") { Description = "Small budgets and 2 trials: under a minute." };
        var seed = new Option<int>("--seed") { Description = "Seed of the first trial.", DefaultValueFactory = _ => 1 };
        var length = new Option<int>("--length") { Description = "adding: minimal sequence length T.", DefaultValueFactory = _ => 100 };
        var budget = new Option<long?>("--budget") { Description = "Training sequences per trial before giving up (default: the experiment's)." };
        var command = new Command("experiment", "Reproduce an experiment of the 1997 LSTM paper: LSTM beside a vanilla RNN.") { name, trials, quick, seed, length, budget };
        command.SetAction(parse =>
        {
            string task = parse.GetValue(name)!;
            bool q = parse.GetValue(quick);
            int n = q ? Math.Min(2, parse.GetValue(trials)) : parse.GetValue(trials);
            if (n <= 0 || parse.GetValue(length) < 20 || parse.GetValue(budget) is <= 0)
            {
                return Usage.Fail("--trials and --budget must be ≥ 1 and --length ≥ 20.");
            }
            ExperimentSpec spec = ExperimentRunner.Spec(task, q);
            if (parse.GetValue(budget) is long b)
            {
                spec = spec with { MaxSequences = b };
            }
            AnsiConsole.MarkupLineInterpolated($"[bold]{task}[/]: paper (Table): {spec.PaperResult}");
            AnsiConsole.MarkupLine("[yellow]Note:[/] trained with full BPTT and Adam (the paper: truncated RTRL-style gradient, plain gradient descent), "
                + "softmax or linear outputs, the 1997 cell without forget gate but with tanh squashing, input-gate biases -3 and -6 as in the paper. Budget: "
                + $"{spec.MaxSequences:N0} sequences per trial.");
            var table = new Table().Border(TableBorder.Rounded).AddColumns("model", "trials solved", "sequences to success (each)", "final error");
            foreach (CellKind cell in new[] { CellKind.Lstm, CellKind.Rnn })
            {
                var results = new List<TrialResult>();
                AnsiConsole.Status().Start($"{cell}…", ctx =>
                {
                    for (int t = 0; t < n; t++)
                    {
                        int trial = t;
                        results.Add(ExperimentRunner.RunTrial(spec, cell, parse.GetValue(seed) + trial, parse.GetValue(length),
                            (seqs, err) => ctx.Status($"{cell} trial {trial + 1}/{n}: {seqs:N0} sequences, recent error {err:F4}")));
                    }
                });
                string model = cell == CellKind.Lstm ? $"LSTM ({spec.LstmHidden} cells)" : $"Elman RNN ({spec.RnnHidden} hidden)";
                table.AddRow(model, $"{results.Count(r => r.Solved)} / {n}",
                    string.Join(", ", results.Select(r => r.Solved ? r.Sequences.ToString("N0", System.Globalization.CultureInfo.InvariantCulture) : "–")),
                    string.Join(", ", results.Select(r => r.FinalError.ToString("F4", System.Globalization.CultureInfo.InvariantCulture))));
            }
            AnsiConsole.Write(table);
            return 0;
        });
        return command;
    }
}
