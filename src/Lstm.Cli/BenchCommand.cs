using System.CommandLine;
using System.Diagnostics;
using Lstm.Core;
using Lstm.Simd;
using Spectre.Console;

namespace Lstm.Cli;

/// <summary>`lstm bench`: a quick latency and throughput table on this machine (perf/ has the careful benchmarks).</summary>
public static class BenchCommand
{
    private static readonly int[] StepSizes = [64, 128, 256];
    private static readonly int[] Batches = [1, 64];

    public static Command Create()
    {
        var seconds = new Option<double>("--seconds") { Description = "Time spent on each row.", DefaultValueFactory = _ => 0.5 };
        var command = new Command("bench", "Time streaming steps and sequence passes on this machine.") { seconds };
        command.SetAction(parse =>
        {
            double budget = parse.GetValue(seconds);
            if (!(budget > 0 && double.IsFinite(budget)))
            {
                return Usage.Fail("--seconds must be finite and > 0.");
            }
            var table = new Table().Border(TableBorder.Rounded).AddColumns("case", "path", "µs per step", "GFLOP/s");
            foreach (SimdPath path in SimdPaths.Available)
            {
                foreach (int h in StepSizes)
                {
                    RecurrentNetwork net = RecurrentNetwork.Create(new RecurrentOptions(h, h), 1, path);
                    StreamState state = net.CreateStream();
                    float[] x = new float[h], y = new float[h];
                    double us = Time(() => net.Step(state, x, y), budget);
                    table.AddRow($"streaming step, B = 1, I = H = {h}", SimdPaths.Name(path), $"{us:F2}", $"{2.0 * 4 * h * 2 * h / us / 1000:F1}");
                }
                foreach (int b in Batches)
                {
                    const int T = 50, H = 256;
                    RecurrentNetwork net = RecurrentNetwork.Create(new RecurrentOptions(H, H), 1, path);
                    float[] x = new float[T * b * H];
                    double us = Time(() => net.Forward(x, T, b), budget) / T;
                    table.AddRow($"sequence, T = {T}, B = {b}, I = H = {H}", SimdPaths.Name(path), $"{us:F2}", $"{2.0 * b * 4 * H * 2 * H / us / 1000:F1}");
                }
            }
            AnsiConsole.Write(table);
            AnsiConsole.Write(BenchFormats.Table(budget, Time));
            AnsiConsole.Write(BenchCells.Table(budget, Time));
            AnsiConsole.MarkupLine("[grey]Wall-clock means over a short run; see perf/ for BenchmarkDotNet figures.[/]");
            return 0;
        });
        return command;
    }

    private static double Time(Action action, double seconds)
    {
        for (int i = 0; i < 3; i++) action();
        long n = 0;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed.TotalSeconds < seconds || n < 3)
        {
            action();
            n++;
        }
        return clock.Elapsed.TotalMicroseconds / n;
    }
}
