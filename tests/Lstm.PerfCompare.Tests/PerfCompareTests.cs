using System.Text.Json;
using Lstm.PerfCompare;

namespace Lstm.PerfCompare.Tests;

public sealed class PerfCompareTests : IDisposable
{
    private readonly string work = Directory.CreateTempSubdirectory("lstm-perfcompare-").FullName;

    public void Dispose() => Directory.Delete(work, recursive: true);

    // A BenchmarkDotNet full report with one benchmark whose "Result" iterations are the given ns per op.
    private string Report(string file, params (string Name, double[] Ns)[] benchmarks)
    {
        var doc = new
        {
            HostEnvironmentInfo = new { ProcessorName = "Test CPU" },
            Benchmarks = benchmarks.Select(b => new
            {
                FullName = b.Name,
                Measurements = b.Ns.Select((v, i) => new { IterationMode = "Workload", IterationStage = "Result", IterationIndex = i + 1, Operations = 1000L, Nanoseconds = v * 1000 })
                    .Concat(b.Ns.Select((v, i) => new { IterationMode = "Workload", IterationStage = "Actual", IterationIndex = i + 1, Operations = 1000L, Nanoseconds = v * 999 })),
            }),
        };
        string path = Path.Combine(work, file);
        File.WriteAllText(path, JsonSerializer.Serialize(doc));
        return path;
    }

    private static double[] Noisy(double center, int seed, int n = 15)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => center * (1 + ((rng.NextDouble() - 0.5) * 0.02))).ToArray();
    }

    [Fact]
    public void SameDistribution_IsSame_TwentyPercentSlower_IsSlower_AndFaster_IsFaster()
    {
        string baseline = Report("base-report-full.json", ("A", Noisy(100, 1)), ("B", Noisy(100, 2)), ("C", Noisy(100, 3)), ("Gone", Noisy(5, 4)));
        string diff = Report("diff-report-full.json", ("A", Noisy(100, 5)), ("B", Noisy(120, 6)), ("C", Noisy(80, 7)), ("New", Noisy(5, 8)));
        var lines = Comparison.Compare(BenchmarkReport.Load(baseline), BenchmarkReport.Load(diff), "5%").ToDictionary(l => l.Name);
        Assert.Equal(Comparison.Verdict.Same, lines["A"].Verdict);
        Assert.Equal(Comparison.Verdict.Slower, lines["B"].Verdict);
        Assert.Equal(Comparison.Verdict.Faster, lines["C"].Verdict);
        Assert.Equal(Comparison.Verdict.OnlyInBase, lines["Gone"].Verdict);
        Assert.Equal(Comparison.Verdict.OnlyInDiff, lines["New"].Verdict);
        Assert.InRange(lines["B"].Ratio!.Value, 1.15, 1.25);
    }

    [Fact]
    public void ASlowdownBelowTheThreshold_IsNotARegression()
    {
        string baseline = Report("base-report-full.json", ("A", Noisy(100, 1)));
        string diff = Report("diff-report-full.json", ("A", Noisy(103, 2)));
        Assert.NotEqual(Comparison.Verdict.Slower, Comparison.Compare(BenchmarkReport.Load(baseline), BenchmarkReport.Load(diff), "5%").Single().Verdict);
        Assert.Equal(Comparison.Verdict.Slower, Comparison.Compare(BenchmarkReport.Load(baseline), BenchmarkReport.Load(diff), "1%").Single().Verdict);
    }

    [Fact]
    public void NormalizingByAMachineLimit_ForgivesASlowerMachine_ButNotASlowerBenchmark()
    {
        string baseline = Report("base-report-full.json", ("Limits.FmaPeak", Noisy(10, 1)), ("A", Noisy(100, 2)), ("B", Noisy(100, 3)));
        string diff = Report("diff-report-full.json", ("Limits.FmaPeak", Noisy(11, 4)), ("A", Noisy(110, 5)), ("B", Noisy(132, 6)));
        var raw = Comparison.Compare(BenchmarkReport.Load(baseline), BenchmarkReport.Load(diff), "5%").ToDictionary(l => l.Name);
        Assert.Equal(Comparison.Verdict.Slower, raw["A"].Verdict); // the whole machine was 10% slower
        var b = BenchmarkReport.Load(baseline);
        var normalized = Comparison.Compare(b, Comparison.NormalizeBy(b, BenchmarkReport.Load(diff), "Limits.FmaPeak"), "5%").ToDictionary(l => l.Name);
        Assert.Equal(Comparison.Verdict.Same, normalized["A"].Verdict);
        Assert.Equal(Comparison.Verdict.Slower, normalized["B"].Verdict); // 20% beyond the machine's own slowdown
        Assert.Throws<InvalidDataException>(() => Comparison.NormalizeBy(b, BenchmarkReport.Load(diff), "NoSuchBenchmark"));
    }

    [Fact]
    public void TheCheckedInBaselines_Load()
    {
        string root = Lstm.Tests.Shared.Repository.Root();
        var all = Directory.EnumerateDirectories(Path.Combine(root, "perf", "results")).Select(BenchmarkReport.Load).ToList();
        Assert.NotEmpty(all);
        Assert.All(all, r => Assert.Contains(r.Values, b => b.Name.Contains("Gemm", StringComparison.Ordinal) && b.Nanoseconds.Length >= 3));
    }

    [Fact]
    public void ReadmeTable_ReplacesOnlyItsSection()
    {
        string readme = Path.Combine(work, "README.md");
        File.WriteAllText(readme, $"# T\nbefore\n{ReadmeTable.Begin}\nold table\n{ReadmeTable.End}\nafter\n");
        ReadmeTable.Write(readme, "| new |\n");
        Assert.Equal($"# T\nbefore\n{ReadmeTable.Begin}\n| new |\n{ReadmeTable.End}\nafter\n", File.ReadAllText(readme));
        File.WriteAllText(readme, "no markers");
        Assert.Throws<InvalidDataException>(() => ReadmeTable.Write(readme, "x"));
    }
}
