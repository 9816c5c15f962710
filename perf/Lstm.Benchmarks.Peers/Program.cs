using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Lstm.Benchmarks.Peers;
using Microsoft.ML.OnnxRuntime;

// lstm peers: the same LSTM in Lstm.Core, TorchSharp (libtorch) and ONNX Runtime on this machine. Checks that all
// agree on the outputs, then times them interleaved and reports each time and the ratio, per thread count.
//   --threads 1,2   --rounds 9   --round-ms 40   --cases step,seq1,seq64,train,quant,grid   --load (a busy process on a core)
//   (grid: ours alone, 1 against 2 threads, streams and sequences over H 32..512 × B 1, 8, 64; see ThreadGrid)
//   (quant: our 16-bit and int8 weights against ONNX Runtime float32 and int8 and TorchSharp, 1 thread, with errors)
//   --out DIR (default perf/results/<cpu>)   --quick (fewer sizes and rounds, a smoke run)
var opts = Args.Parse(args);
Console.WriteLine(TorchSharpLoader.Patch());
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
string cpu = Lstm.Perf.CpuInfo.Model();
string torchVersion = typeof(TorchSharp.torch).Assembly.GetName().Version!.ToString(3);
string ortVersion = OrtEnv.Instance().GetVersionString();
Console.WriteLine($"{cpu}; {Environment.ProcessorCount} cores; .NET {Environment.Version}; TorchSharp {torchVersion} (libtorch 2.10); ONNX Runtime {ortVersion}");
// The busy loop ends with this process, even if it crashes: it spins only while its parent lives.
Process? load = opts.Load ? Process.Start("sh", ["-c", "while kill -0 $PPID 2>/dev/null; do :; done"]) : null;
if (load is not null) Console.WriteLine($"a busy process (pid {load.Id}) keeps one core loaded throughout");

var rows = new List<Row>();
var quantRows = new List<QuantRow>();
List<ThreadGrid.Cell>? grid = null;
try
{
    if (opts.Cases.Contains("grid"))
    {
        grid = ThreadGrid.Run(opts);
    }
    foreach (int threads in opts.Threads)
    {
        if (opts.Cases.Contains("step"))
        {
            foreach (int h in opts.Quick ? new[] { 128 } : [128, 256, 512])
            {
                using var m = new Models(h, threads);
                using var r = new StepRunners(m, Data.Uniform(h, 3));
                Check.Agree($"step H={h}", Enumerable.Range(0, 5).Select(_ => (r.Ours().ToArray(), (float[]?)r.Onnx().ToArray(), r.Torch())).ToArray());
                long before = GC.GetAllocatedBytesForCurrentThread();
                for (int i = 0; i < 1000; i++) r.Ours();
                long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
                var t = Timing.Compare(opts.Rounds, opts.RoundMs, ("ours", () => r.Ours()), ("onnx", () => r.Onnx()), ("torch LSTMCell", r.TorchOnly));
                rows.Add(Row.From("step", h, 1, 1, threads, t, allocated / 1000.0));
            }
        }
        foreach (var (name, batch) in new[] { ("seq1", 1), ("seq64", 64) })
        {
            if (!opts.Cases.Contains(name)) continue;
            foreach (int h in opts.Quick ? new[] { 64 } : [256, 512])
            {
                const int T = 100;
                using var m = new Models(h, threads);
                float[] x = Data.Uniform(T * batch * h, 4), dy = Data.Uniform(T * batch * h, 5);
                using var r = new SequenceRunners(m, T, batch, x, dy);
                Check.Agree($"{name} H={h}", [(r.Ours(), (float[]?)r.Onnx(), r.Torch())]);
                var t = Timing.Compare(opts.Rounds, opts.RoundMs, ("ours", () => r.Ours()), ("onnx", () => r.Onnx()), ("torch nn.LSTM", r.TorchOnly));
                rows.Add(Row.From(name, h, batch, T, threads, t));
            }
        }
        if (opts.Cases.Contains("quant") && threads == opts.Threads[0])
        {
            quantRows.AddRange(Quantized.Run(opts));
        }
        if (opts.Cases.Contains("train"))
        {
            foreach (int batch in opts.Quick ? new[] { 1 } : [1, 32])
            {
                const int T = 100;
                int h = opts.Quick ? 64 : 256;
                using var m = new Models(h, threads);
                float[] x = Data.Uniform(T * batch * h, 6), dy = Data.Uniform(T * batch * h, 7);
                using var r = new SequenceRunners(m, T, batch, x, dy);
                Check.Agree($"train B={batch}: dW_hh", [(r.OursTrain().ToArray(), null, r.TorchTrain())], relative: true);
                var t = Timing.Compare(opts.Rounds, opts.RoundMs, ("ours", () => r.OursTrain()), ("torch nn.LSTM", r.TorchTrainOnly));
                rows.Add(Row.From("train", h, batch, T, threads, t));
            }
        }
    }
}
finally
{
    load?.Kill();
}

if (grid is not null)
{
    ThreadGrid.Write(grid, opts, cpu);
    if (rows.Count == 0 && quantRows.Count == 0) return 0;
}

string table = Row.Markdown(rows, opts.Load) + (quantRows.Count > 0 ? Environment.NewLine + Quantized.Markdown(quantRows) : "");
Console.WriteLine(table);
string dir = opts.Out ?? Path.Combine(Machine.RepositoryRoot(), "perf", "results", Lstm.Perf.CpuInfo.Slug(cpu));
Directory.CreateDirectory(dir);
string stem = $"peers-{DateTime.UtcNow:yyyy-MM-dd-HHmm}{(opts.Load ? "-loaded" : "")}{(opts.Quick ? "-quick" : "")}";
var report = new PeersReport(DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture), cpu, Environment.ProcessorCount,
    Environment.Version.ToString(), torchVersion, ortVersion, opts.Load, rows, quantRows);
File.WriteAllText(Path.Combine(dir, stem + ".json"), JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true }));
File.WriteAllText(Path.Combine(dir, stem + ".md"), table);
Console.WriteLine($"wrote {Path.Combine(dir, stem)}.json and .md");
return 0;

internal sealed record PeersReport(string Date, string Cpu, int Cores, string Dotnet, string TorchSharp, string OnnxRuntime, bool Loaded, List<Row> Rows,
    List<QuantRow> Quantized);

internal sealed record Row(string Case, int Hidden, int Batch, int Steps, int Threads, double OursUs, double? OnnxUs, double TorchUs,
    double? OnnxRatio, double TorchRatio, string TorchWay, double? OursBytesPerStep)
{
    public static Row From(string c, int h, int b, int t, int threads, Timing.Result[] r, double? bytes = null)
    {
        Timing.Result ours = r[0], torch = r[^1];
        Timing.Result? onnx = r.Length > 2 ? r[1] : null;
        return new Row(c, h, b, t, threads, ours.MedianMicroseconds, onnx?.MedianMicroseconds, torch.MedianMicroseconds,
            onnx is null ? null : Timing.Ratio(ours, onnx), Timing.Ratio(ours, torch), torch.Name, bytes);
    }

    public static string Markdown(IEnumerable<Row> rows, bool loaded)
    {
        var sb = new StringBuilder();
        sb.AppendLine(loaded ? "(with a busy process on one core)" : "");
        sb.AppendLine("| case | H | B | T | threads | ours µs | ONNX Runtime µs | TorchSharp µs | ORT / ours | Torch / ours |");
        sb.AppendLine("|---|---|---|---|---|---|---|---|---|---|");
        foreach (Row r in rows)
        {
            string what = r.Case switch { "step" => "streaming step", "seq1" or "seq64" => "sequence", _ => "training step" };
            sb.AppendLine(CultureInfo.InvariantCulture, $"| {what} ({r.TorchWay}) | {r.Hidden} | {r.Batch} | {r.Steps} | {r.Threads} | {r.OursUs:F1} | " +
                $"{(r.OnnxUs is { } o ? o.ToString("F1", CultureInfo.InvariantCulture) : "–")} | {r.TorchUs:F1} | " +
                $"{(r.OnnxRatio is { } q ? q.ToString("F2", CultureInfo.InvariantCulture) + "×" : "–")} | {r.TorchRatio:F2}× |");
        }
        return sb.ToString();
    }
}

internal static class Data
{
    public static float[] Uniform(int n, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)((rng.NextDouble() * 2) - 1)).ToArray();
    }
}

internal static class Check
{
    /// <summary>Ours, ORT and Torch must agree before anything is timed; float32 over T steps: 1e-4 absolute (1e-3 relative for gradients).</summary>
    public static void Agree(string what, (float[] Ours, float[]? Onnx, float[] Torch)[] outputs, bool relative = false)
    {
        double worstOnnx = 0, worstTorch = 0;
        foreach (var (ours, onnx, torch) in outputs)
        {
            if ((onnx is not null && ours.Length != onnx.Length) || ours.Length != torch.Length)
            {
                throw new InvalidOperationException($"{what}: output lengths differ: {ours.Length}, {onnx?.Length}, {torch.Length}");
            }
            for (int i = 0; i < ours.Length; i++)
            {
                double scale = relative ? 1 + Math.Abs(ours[i]) : 1;
                worstOnnx = onnx is null ? 0 : Math.Max(worstOnnx, Math.Abs(ours[i] - onnx[i]) / scale);
                worstTorch = Math.Max(worstTorch, Math.Abs(ours[i] - torch[i]) / scale);
            }
        }
        double bound = relative ? 1e-3 : 1e-4;
        Console.WriteLine($"agree {what}: worst {(outputs[0].Onnx is null ? "" : $"|ours - ORT| {worstOnnx:E1}, ")}|ours - Torch| {worstTorch:E1} (bound {bound:E0})");
        if (worstOnnx > bound || worstTorch > bound || double.IsNaN(worstOnnx + worstTorch))
        {
            throw new InvalidOperationException($"{what}: the implementations disagree; nothing is timed.");
        }
    }
}

internal static class Machine
{
    public static string RepositoryRoot()
    {
        for (DirectoryInfo? d = new(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            if (File.Exists(Path.Combine(d.FullName, "Lstm.sln"))) return d.FullName;
        }
        return Directory.GetCurrentDirectory();
    }
}

internal sealed record Args(int[] Threads, int Rounds, double RoundMs, HashSet<string> Cases, bool Load, string? Out, bool Quick)
{
    public static Args Parse(string[] a)
    {
        string Get(string name, string fallback) => Array.IndexOf(a, name) is int i and >= 0 && i + 1 < a.Length ? a[i + 1] : fallback;
        bool quick = a.Contains("--quick");
        return new Args(
            Get("--threads", "1,2").Split(',').Select(int.Parse).ToArray(),
            int.Parse(Get("--rounds", quick ? "3" : "9"), CultureInfo.InvariantCulture),
            double.Parse(Get("--round-ms", quick ? "10" : "40"), CultureInfo.InvariantCulture),
            [.. Get("--cases", "step,seq1,seq64,train").Split(',')],
            a.Contains("--load"),
            Array.IndexOf(a, "--out") >= 0 ? Get("--out", "") : null,
            quick);
    }
}
