using System.Globalization;
using System.Text;
using System.Text.Json;
using Lstm.Core;

namespace Lstm.Benchmarks.Peers;

/// <summary>
/// Does a second thread ever lose? Ours alone, with 1 and with 2 threads, interleaved in the same rounds (see
/// <see cref="Timing"/>), over H × B for a streaming step and a T-step sequence. The reported figure is the median
/// over rounds of (2-thread time / 1-thread time): below 1 the second thread helps, above 1 it loses.
/// </summary>
internal static class ThreadGrid
{
    private static readonly int[] Hiddens = [32, 64, 128, 256, 512];
    private static readonly int[] Batches = [1, 8, 64];
    private const int SequenceSteps = 100;
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public sealed record Cell(string Case, int Hidden, int Batch, int Steps, double OneThreadUs, double TwoThreadsUs, double Ratio,
        double[] RatioRounds, int StreamThreads);

    public sealed record Report(string Date, string Cpu, int Cores, string Dotnet, bool Loaded, List<Cell> Cells);

    public static List<Cell> Run(Args opts)
    {
        var cells = new List<Cell>();
        foreach (int h in opts.Quick ? [64, 256] : Hiddens)
        {
            foreach (int b in opts.Quick ? [1, 8] : Batches)
            {
                cells.Add(Stream(opts, h, b));
                cells.Add(Sequence(opts, h, b));
            }
        }
        return cells;
    }

    private static Cell Stream(Args opts, int h, int b)
    {
        using var one = RecurrentNetwork.Create(new RecurrentOptions(h, h), seed: 1);
        using var two = RecurrentNetwork.Create(new RecurrentOptions(h, h), seed: 1);
        using StreamState s1 = one.CreateStream(b, 1), s2 = two.CreateStream(b, 2);
        float[] x = Data.Uniform(b * h, 3), y1 = new float[b * h], y2 = new float[b * h];
        for (int i = 0; i < 5; i++)
        {
            one.Step(s1, x, y1);
            two.Step(s2, x, y2);
        }
        if (!y1.AsSpan().SequenceEqual(y2))
        {
            throw new InvalidOperationException($"stream H={h} B={b}: 2 threads gave other bits than 1; nothing is timed.");
        }
        var t = Timing.Compare(opts.Rounds, opts.RoundMs, ("1 thread", () => one.Step(s1, x, y1)), ("2 threads", () => two.Step(s2, x, y2)));
        return Make("stream", h, b, 1, t, s2.Threads);
    }

    private static Cell Sequence(Args opts, int h, int b)
    {
        using var one = RecurrentNetwork.Create(new RecurrentOptions(h, h), seed: 1);
        using var two = RecurrentNetwork.Create(new RecurrentOptions(h, h), seed: 1);
        two.Threads = 2;
        int n = SequenceSteps * b * h;
        float[] x = Data.Uniform(n, 4), y1 = new float[n], y2 = new float[n];
        float[] hn1 = new float[b * h], cn1 = new float[b * h], hn2 = new float[b * h], cn2 = new float[b * h];
        one.Forward(x, SequenceSteps, b, y1, hn1, cn1);
        two.Forward(x, SequenceSteps, b, y2, hn2, cn2);
        if (!y1.AsSpan().SequenceEqual(y2))
        {
            throw new InvalidOperationException($"sequence H={h} B={b}: 2 threads gave other bits than 1; nothing is timed.");
        }
        var t = Timing.Compare(opts.Rounds, opts.RoundMs,
            ("1 thread", () => one.Forward(x, SequenceSteps, b, y1, hn1, cn1)), ("2 threads", () => two.Forward(x, SequenceSteps, b, y2, hn2, cn2)));
        return Make("sequence", h, b, SequenceSteps, t, 2);
    }

    private static Cell Make(string kind, int h, int b, int steps, Timing.Result[] t, int streamThreads)
    {
        double[] ratios = t[0].Rounds.Zip(t[1].Rounds, (one, two) => two / one).ToArray();
        var cell = new Cell(kind, h, b, steps, t[0].MedianMicroseconds, t[1].MedianMicroseconds, Timing.Median(ratios), ratios, streamThreads);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{kind,-8} H={h,-3} B={b,-2}: 1 thread {cell.OneThreadUs,9:F1} µs, 2 threads {cell.TwoThreadsUs,9:F1} µs, 2/1 = {cell.Ratio:F2}"));
        return cell;
    }

    public static string Markdown(List<Cell> cells, bool loaded)
    {
        var sb = new StringBuilder();
        sb.AppendLine(loaded ? "(with a busy process on one core)" : "");
        sb.AppendLine("| case | H | B | T | 1 thread µs | 2 threads µs | 2 threads / 1 (median of rounds) | worst round |");
        sb.AppendLine("|---|---|---|---|---|---|---|---|");
        foreach (Cell c in cells)
        {
            sb.AppendLine(CultureInfo.InvariantCulture,
                $"| {c.Case} | {c.Hidden} | {c.Batch} | {c.Steps} | {c.OneThreadUs:F1} | {c.TwoThreadsUs:F1} | {c.Ratio:F2} | {c.RatioRounds.Max():F2} |");
        }
        return sb.ToString();
    }

    public static void Write(List<Cell> cells, Args opts, string cpu)
    {
        string table = Markdown(cells, opts.Load);
        Console.WriteLine(table);
        string dir = opts.Out ?? Path.Combine(Machine.RepositoryRoot(), "perf", "results", Lstm.Perf.CpuInfo.Slug(cpu));
        Directory.CreateDirectory(dir);
        string stem = $"threads-{DateTime.UtcNow:yyyy-MM-dd-HHmmss}{(opts.Load ? "-loaded" : "")}{(opts.Quick ? "-quick" : "")}";
        var report = new Report(DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture), cpu, Environment.ProcessorCount,
            Environment.Version.ToString(), opts.Load, cells);
        File.WriteAllText(Path.Combine(dir, stem + ".json"), JsonSerializer.Serialize(report, Indented));
        File.WriteAllText(Path.Combine(dir, stem + ".md"), table);
        Console.WriteLine($"wrote {Path.Combine(dir, stem)}.json and .md");
    }
}
