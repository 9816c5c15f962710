using System.Diagnostics;
using System.Globalization;
using System.Text;
using Lstm.Core;

namespace Lstm.Benchmarks;

/// <summary>
/// `-- --sessions [--quick] [--format int8|float16|bfloat16]`: issue 12's serving measurements, one network (I = H = 256,
/// one layer, float32 unless a weight format is named), one run.
/// 1. k sessions stepped as one B = k step (SessionHost, 1 thread), k = 1 … 64, timed in interleaved rounds: the
///    cost of k against one session (median and range of the per-round ratios) and the GFLOP/s.
/// 2. A load generator: N client threads, each driving one session through a SessionBatcher with random think
///    times (0–2 ms), for a few seconds per N: p50 and p99 latency of a step request and steps per second, plotted
///    to docs/sessions-latency.png and docs/sessions-throughput.png.
/// </summary>
internal static class SessionLoad
{
    private const int Size = 256;

    public static int Run(bool quick, Lstm.Simd.WeightFormat format)
    {
        CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
        using RecurrentNetwork float32 = RecurrentNetwork.Create(new RecurrentOptions(Size, Size), seed: 1);
        using RecurrentNetwork net = format == Lstm.Simd.WeightFormat.Float32 ? float32 : float32.WithWeightFormat(format);
        Console.WriteLine($"sessions: one LSTM layer, I = H = {Size}, {format} weights, path {net.KernelPath}, {Environment.ProcessorCount} cores, {Lstm.Perf.CpuInfo.Model()}");
        var report = new StringBuilder();
        report.AppendLine(Together(net, quick ? 3 : 7));
        // The load generator and its plots are for float32 (the README's figures); a format's run measures k together only.
        if (format == Lstm.Simd.WeightFormat.Float32)
        {
            report.AppendLine(Load(net, quick));
        }
        Console.WriteLine(report);
        return 0;
    }

    private static string Together(RecurrentNetwork net, int rounds)
    {
        int[] ks = [1, 2, 4, 8, 16, 32, 64];
        var hosts = ks.Select(k =>
        {
            var host = new SessionHost(net, k);
            Session[] s = Enumerable.Range(0, k).Select(_ => host.Open()).ToArray();
            float[] x = Enumerable.Range(0, k * Size).Select(i => MathF.Sin(i * 0.37f)).ToArray(), y = new float[k * Size];
            return (Host: host, Step: (Action)(() => host.Step(s, x, y)));
        }).ToArray();
        double[][] times = ks.Select(_ => new double[rounds]).ToArray();
        foreach (var h in hosts) for (int i = 0; i < 2000; i++) h.Step();   // warm-up, past tiering
        for (int r = 0; r < rounds; r++)
        {
            for (int j = 0; j < ks.Length; j++)
            {
                int c = (r + j) % ks.Length;
                Thread.Sleep(20);
                int n = Math.Max(20, 4000 / ks[c]);
                long t0 = Stopwatch.GetTimestamp();
                for (int i = 0; i < n; i++) hosts[c].Step();
                times[c][r] = Stopwatch.GetElapsedTime(t0).TotalMicroseconds / n;
            }
        }
        var sb = new StringBuilder();
        sb.AppendLine(CultureInfo.InvariantCulture, $"### k sessions stepped as one (1 thread, {rounds} interleaved rounds)");
        sb.AppendLine("| sessions k | µs per step (median) | ÷ one session's step: median (range) | GFLOP/s | per-session throughput ÷ lone |");
        sb.AppendLine("|---|---|---|---|---|");
        for (int c = 0; c < ks.Length; c++)
        {
            double[] ratio = times[c].Zip(times[0], (t, one) => t / one).ToArray();
            double median = Median(times[c]), flops = 2.0 * 4 * Size * (Size + Size) * ks[c];
            sb.AppendLine(CultureInfo.InvariantCulture,
                $"| {ks[c]} | {median:F1} | {Median(ratio):F2}× ({ratio.Min():F2}–{ratio.Max():F2}) | {flops / median / 1e3:F1} | {ks[c] / Median(ratio):F2}× |");
        }
        foreach (var h in hosts) h.Host.Dispose();
        return sb.ToString();
    }

    private static string Load(RecurrentNetwork net, bool quick)
    {
        int[] clients = quick ? [1, 4, 16] : [1, 2, 4, 8, 16, 32, 64];
        TimeSpan[] windows = [TimeSpan.Zero, TimeSpan.FromMicroseconds(100)];
        double seconds = quick ? 0.5 : 2;
        var sb = new StringBuilder();
        sb.AppendLine(CultureInfo.InvariantCulture, $"### Load: N clients, one session each, think time uniform 0–2 ms, {seconds} s per point");
        sb.AppendLine("| window µs | clients N | p50 µs | p99 µs | steps/s |");
        sb.AppendLine("|---|---|---|---|---|");
        var curves = new List<(TimeSpan Window, double[] P50, double[] P99, double[] Rate)>();
        foreach (TimeSpan window in windows)
        {
            var (p50s, p99s, rates) = (new double[clients.Length], new double[clients.Length], new double[clients.Length]);
            for (int c = 0; c < clients.Length; c++)
            {
                (p50s[c], p99s[c], rates[c]) = OneLoad(net, clients[c], window, seconds);
                sb.AppendLine(CultureInfo.InvariantCulture, $"| {window.TotalMicroseconds:F0} | {clients[c]} | {p50s[c]:F1} | {p99s[c]:F1} | {rates[c]:F0} |");
            }
            curves.Add((window, p50s, p99s, rates));
        }
        Plot(clients, curves);
        return sb.ToString();
    }

    private static (double P50, double P99, double StepsPerSecond) OneLoad(RecurrentNetwork net, int n, TimeSpan window, double seconds)
    {
        using var host = new SessionHost(net, n);
        using var batcher = new SessionBatcher(host, window);
        Session[] sessions = Enumerable.Range(0, n).Select(_ => batcher.Open()).ToArray();
        var latencies = new List<double>[n];
        using var start = new Barrier(n + 1);
        long stopAt = 0;
        Thread[] threads = Enumerable.Range(0, n).Select(i => new Thread(() =>
        {
            var rng = new Random(i);
            float[] x = Enumerable.Range(0, Size).Select(j => MathF.Cos((i + 1) * j)).ToArray(), y = new float[Size];
            var mine = latencies[i] = new List<double>(100_000);
            for (int w = 0; w < 200; w++) batcher.Step(sessions[i], x, y);
            start.SignalAndWait();
            while (Stopwatch.GetTimestamp() < Volatile.Read(ref stopAt))
            {
                Thread.Sleep(rng.Next(3));               // 0 (a yield), 1 or 2 ms: arrivals that do not line up
                long t0 = Stopwatch.GetTimestamp();
                batcher.Step(sessions[i], x, y);
                mine.Add(Stopwatch.GetElapsedTime(t0).TotalMicroseconds);
            }
        }) { IsBackground = true }).ToArray();
        foreach (Thread t in threads) t.Start();
        Volatile.Write(ref stopAt, long.MaxValue);
        start.SignalAndWait();
        long begin = Stopwatch.GetTimestamp();
        Volatile.Write(ref stopAt, begin + (long)(seconds * Stopwatch.Frequency));
        foreach (Thread t in threads) t.Join();
        double elapsed = Stopwatch.GetElapsedTime(begin).TotalSeconds;
        double[] all = [.. latencies.SelectMany(l => l).Order()];
        return (Percentile(all, 0.50), Percentile(all, 0.99), all.Length / elapsed);
    }

    private static void Plot(int[] clients, List<(TimeSpan Window, double[] P50, double[] P99, double[] Rate)> curves)
    {
        string docs = Path.Combine(RepositoryRoot(), "docs");
        Directory.CreateDirectory(docs);
        double[] xs = clients.Select(c => Math.Log2(c)).ToArray();
        var latency = new ScottPlot.Plot();
        var rate = new ScottPlot.Plot();
        foreach (var c in curves)
        {
            string w = $"window {c.Window.TotalMicroseconds:F0} µs";
            latency.Add.ScatterLine(xs, c.P50).LegendText = $"p50, {w}";
            latency.Add.ScatterLine(xs, c.P99).LegendText = $"p99, {w}";
            rate.Add.ScatterLine(xs, c.Rate).LegendText = w;
        }
        foreach (var (plot, title, y) in new[] { (latency, "step latency under load (I = H = 256, 1 layer)", "µs per step request"), (rate, "steps per second under load", "session steps per second") })
        {
            plot.Title(title);
            plot.XLabel("clients N (log2)");
            plot.YLabel(y);
            plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(xs, clients.Select(c => c.ToString(CultureInfo.InvariantCulture)).ToArray());
            plot.ShowLegend();
        }
        Save(latency, Path.Combine(docs, "sessions-latency.png"));
        Save(rate, Path.Combine(docs, "sessions-throughput.png"));
        Console.WriteLine($"wrote {Path.Combine(docs, "sessions-latency.png")} and sessions-throughput.png");
    }

    private static void Save(ScottPlot.Plot plot, string path)
    {
        string temp = path + ".tmp.png";
        plot.SavePng(temp, 800, 450);
        File.Move(temp, path, overwrite: true);
    }

    private static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)(p * sorted.Length))];

    private static double Median(double[] v)
    {
        double[] s = [.. v.Order()];
        return s.Length % 2 == 1 ? s[s.Length / 2] : (s[(s.Length / 2) - 1] + s[s.Length / 2]) / 2;
    }

    private static string RepositoryRoot()
    {
        for (DirectoryInfo? d = new(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            if (File.Exists(Path.Combine(d.FullName, "Lstm.sln"))) return d.FullName;
        }
        return Directory.GetCurrentDirectory();
    }
}
