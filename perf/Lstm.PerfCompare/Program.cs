using System.Globalization;
using Lstm.PerfCompare;

// lstm perf compare:
//   compare BASE DIFF [--threshold 5%] [--alpha 0.001] [--normalize-by NAME]
//                                                      BenchmarkDotNet full JSON reports (files or directories);
//                                                      exit 1 if any benchmark is significantly slower; NAME: a
//                                                      benchmark measuring the machine (e.g. Limits.FmaPeakVector512)
//                                                      whose base/diff ratio rescales the diff first
//   readme [--results DIR] [--readme README.md]         rewrite the README's performance table from DIR's newest
//                                                      peers-*.json (default: perf/results/<this CPU>), and its
//                                                      threads table from the newest threads-*.json (--cases grid)
if (args.Length == 0 || args[0] is "-h" or "--help")
{
    Console.WriteLine("usage: compare BASE DIFF [--threshold 5%] [--alpha 0.001] [--normalize-by NAME] | readme [--results DIR] [--readme README.md] [--runs 3]");
    return args.Length == 0 ? 2 : 0;
}
string Option(string name, string fallback) => Array.IndexOf(args, name) is int i and >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;

if (args[0] == "readme")
{
    string dir = Option("--results", Path.Combine("perf", "results", Lstm.Perf.CpuInfo.Slug(Lstm.Perf.CpuInfo.Model())));
    string readme = Option("--readme", "README.md");
    int count = int.Parse(Option("--runs", "3"), System.Globalization.CultureInfo.InvariantCulture);
    // The newest runs with rows (a quantized-only or quick report has none), idle and loaded apart.
    List<string> Newest(string pattern, bool loadedRuns, Func<string, bool> usable) => Directory.EnumerateFiles(dir, pattern)
        .Where(f => f.Contains("-loaded", StringComparison.Ordinal) == loadedRuns && !f.Contains("-quick", StringComparison.Ordinal) && usable(f))
        .Order(StringComparer.Ordinal).TakeLast(count).ToList();
    bool HasRows(string f) => System.Text.Json.JsonDocument.Parse(File.ReadAllBytes(f)).RootElement.GetProperty("Rows").GetArrayLength() > 0;
    List<string> idle = Newest("peers-*.json", false, HasRows), loaded = Newest("peers-*.json", true, HasRows);
    if (idle.Count == 0)
    {
        Console.Error.WriteLine($"no peers-*.json with rows in {dir}: run `dotnet run -c Release --project perf/Lstm.Benchmarks.Peers` first");
        return 2;
    }
    ReadmeTable.Write(readme, ReadmeTable.Build(idle, loaded));
    Console.WriteLine($"{readme}: performance table from {string.Join(", ", idle)}{(loaded.Count == 0 ? "" : " and " + string.Join(", ", loaded))}");
    // The threads grid (`--cases grid`), when there are runs of it.
    List<string> gridIdle = Newest("threads-*.json", false, _ => true), gridLoaded = Newest("threads-*.json", true, _ => true);
    if (gridIdle.Count > 0)
    {
        ReadmeTable.Write(readme, ThreadsTable.Build(gridIdle, gridLoaded), ThreadsTable.Begin, ThreadsTable.End);
        Console.WriteLine($"{readme}: threads table from {string.Join(", ", gridIdle.Concat(gridLoaded))}");
    }
    return 0;
}

string[] paths = args[0] == "compare" ? args[1..] : args;
if (paths.Length < 2 || paths[0].StartsWith("--", StringComparison.Ordinal) || paths[1].StartsWith("--", StringComparison.Ordinal))
{
    Console.Error.WriteLine("compare needs BASE and DIFF");
    return 2;
}
string threshold = Option("--threshold", "5%");
double alpha = double.Parse(Option("--alpha", "0.001"), CultureInfo.InvariantCulture);
var baseReport = BenchmarkReport.Load(paths[0]);
var diffReport = BenchmarkReport.Load(paths[1]);
string? reference = Array.IndexOf(args, "--normalize-by") >= 0 ? Option("--normalize-by", "") : null;
if (reference is not null)
{
    diffReport = Comparison.NormalizeBy(baseReport, diffReport, reference);
    Console.WriteLine($"diff times scaled by the base/diff ratio of '{reference}' (the machine's own speed in each run)");
}
var lines = Comparison.Compare(baseReport, diffReport, threshold, alpha);
int width = Math.Min(90, lines.Max(l => l.Name.Length));
Console.WriteLine($"{"benchmark".PadRight(width)} {"base",12} {"diff",12} {"diff/base",10}  verdict (Mann–Whitney equivalence, threshold {threshold}, α = {alpha})");
foreach (var l in lines)
{
    string name = l.Name.Length > width ? "…" + l.Name[^(width - 1)..] : l.Name.PadRight(width);
    Console.WriteLine($"{name} {Ns(l.BaseMedian),12} {Ns(l.DiffMedian),12} {(l.Ratio is { } r ? r.ToString("F3", CultureInfo.InvariantCulture) : "–"),10}  {l.Verdict}");
}
int slower = lines.Count(l => l.Verdict == Comparison.Verdict.Slower);
Console.WriteLine($"{lines.Count} benchmarks: {slower} slower, {lines.Count(l => l.Verdict == Comparison.Verdict.Faster)} faster, " +
    $"{lines.Count(l => l.Verdict == Comparison.Verdict.Same)} same, {lines.Count(l => l.Verdict == Comparison.Verdict.Unknown)} unknown");
return slower > 0 ? 1 : 0;

static string Ns(double? v) => v switch
{
    null => "–",
    < 1e3 => $"{v:F1} ns",
    < 1e6 => $"{v / 1e3:F2} µs",
    _ => $"{v / 1e6:F2} ms",
};
