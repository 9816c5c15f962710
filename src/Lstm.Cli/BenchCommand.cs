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

    // --tiny: every row on every path in seconds even on an emulated CPU (.ci/run's ARM64 run), where times mean nothing.
    private static readonly int[] TinyStepSizes = [16, 32];
    private static readonly int[] TinyBatches = [1, 4];

    public static Command Create()
    {
        var seconds = new Option<double>("--seconds") { Description = "Time spent on each row.", DefaultValueFactory = _ => 0.5 };
        var tiny = new Option<bool>("--tiny") { Description = "Tiny sizes (H = 16 and 32, T = 5): checks that every path runs, for example under an emulator; the times mean little." };
        var command = new Command("bench", "Time streaming steps and sequence passes on this machine.") { seconds, tiny };
        command.SetAction(parse =>
        {
            double budget = parse.GetValue(seconds);
            if (!(budget > 0 && double.IsFinite(budget)))
            {
                return Usage.Fail("--seconds must be finite and > 0.");
            }
            bool small = parse.GetValue(tiny);
            int[] stepSizes = small ? TinyStepSizes : StepSizes, batches = small ? TinyBatches : Batches;
            int T = small ? 5 : 50, H = small ? 32 : 256;
            var table = new Table().Border(TableBorder.Rounded).AddColumns("case", "path", "µs per step", "GFLOP/s");
            foreach (SimdPath path in SimdPaths.Available)
            {
                foreach (int h in stepSizes)
                {
                    RecurrentNetwork net = RecurrentNetwork.Create(new RecurrentOptions(h, h), 1, path);
                    StreamState state = net.CreateStream();
                    float[] x = new float[h], y = new float[h];
                    double us = Time(() => net.Step(state, x, y), budget);
                    table.AddRow($"streaming step, B = 1, I = H = {h}", SimdPaths.Name(path), $"{us:F2}", $"{2.0 * 4 * h * 2 * h / us / 1000:F1}");
                }
                foreach (int b in batches)
                {
                    RecurrentNetwork net = RecurrentNetwork.Create(new RecurrentOptions(H, H), 1, path);
                    float[] x = new float[T * b * H];
                    double us = Time(() => net.Forward(x, T, b), budget) / T;
                    table.AddRow($"sequence, T = {T}, B = {b}, I = H = {H}", SimdPaths.Name(path), $"{us:F2}", $"{2.0 * b * 4 * H * 2 * H / us / 1000:F1}");
                }
            }
            AnsiConsole.Write(table);
            AnsiConsole.Write(BenchFormats.Table(budget, Time, small ? TinyStepSizes : null));
            AnsiConsole.Write(BenchCells.Table(budget, Time, small ? 16 : 0));
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
