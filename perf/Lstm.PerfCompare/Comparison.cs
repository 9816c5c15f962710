using Perfolizer.Mathematics.Common;
using Perfolizer.Mathematics.SignificanceTesting;
using Perfolizer.Mathematics.SignificanceTesting.MannWhitney;
using Perfolizer.Metrology;
using Pragmastat;

namespace Lstm.PerfCompare;

/// <summary>
/// Base against diff, benchmark by benchmark: a two one-sided Mann–Whitney equivalence test (Perfolizer's
/// <see cref="SimpleEquivalenceTest"/>) with a relative threshold says Slower, Faster or Same; too few iterations say
/// so rather than guess.
/// </summary>
internal static class Comparison
{
    public enum Verdict { Same, Faster, Slower, Unknown, OnlyInBase, OnlyInDiff }

    public sealed record Line(string Name, double? BaseMedian, double? DiffMedian, Verdict Verdict)
    {
        public double? Ratio => BaseMedian is { } b && DiffMedian is { } d ? d / b : null;
    }

    public static List<Line> Compare(IReadOnlyDictionary<string, BenchmarkReport.Benchmark> baseline, IReadOnlyDictionary<string, BenchmarkReport.Benchmark> diff,
        string threshold, double alpha = 0.001)
    {
        var test = new SimpleEquivalenceTest(new MannWhitneyTest());
        Threshold t = Threshold.Parse(threshold);
        var level = new SignificanceLevel(alpha);
        var lines = new List<Line>();
        foreach (string name in baseline.Keys.Union(diff.Keys).Order(StringComparer.Ordinal))
        {
            bool inBase = baseline.TryGetValue(name, out var b), inDiff = diff.TryGetValue(name, out var d);
            if (!inBase || !inDiff)
            {
                lines.Add(new Line(name, inBase ? Median(b!.Nanoseconds) : null, inDiff ? Median(d!.Nanoseconds) : null, inBase ? Verdict.OnlyInBase : Verdict.OnlyInDiff));
                continue;
            }
            Verdict v = Verdict.Unknown;
            if (b!.Nanoseconds.Length >= 3 && d!.Nanoseconds.Length >= 3)
            {
                ComparisonResult r = test.Perform(new Sample(b.Nanoseconds), new Sample(d.Nanoseconds), t, level);
                v = r switch
                {
                    ComparisonResult.Lesser => Verdict.Slower,    // base's times are less than diff's
                    ComparisonResult.Greater => Verdict.Faster,
                    ComparisonResult.Indistinguishable => Verdict.Same,
                    _ => Verdict.Unknown,
                };
            }
            lines.Add(new Line(name, Median(b.Nanoseconds), Median(d!.Nanoseconds), v));
        }
        return lines;
    }

    /// <summary>
    /// Scales every time in <paramref name="diff"/> by base/diff of the reference benchmark's medians (a machine limit
    /// measured in the same run, such as <c>Limits.FmaPeakVector512</c>), so that a machine that runs 10% slower today
    /// does not read as a 10% regression of every benchmark. Throws if either report lacks the reference.
    /// </summary>
    public static Dictionary<string, BenchmarkReport.Benchmark> NormalizeBy(IReadOnlyDictionary<string, BenchmarkReport.Benchmark> baseline,
        IReadOnlyDictionary<string, BenchmarkReport.Benchmark> diff, string reference)
    {
        BenchmarkReport.Benchmark Find(IReadOnlyDictionary<string, BenchmarkReport.Benchmark> r, string which) =>
            r.Values.Where(b => b.Name.Contains(reference, StringComparison.Ordinal)).OrderBy(b => b.Name, StringComparer.Ordinal).FirstOrDefault()
            ?? throw new InvalidDataException($"The {which} report has no benchmark named like '{reference}' to normalize by.");
        double scale = Median(Find(baseline, "base").Nanoseconds) / Median(Find(diff, "diff").Nanoseconds);
        return diff.ToDictionary(kv => kv.Key, kv => kv.Value with { Nanoseconds = kv.Value.Nanoseconds.Select(v => v * scale).ToArray() }, StringComparer.Ordinal);
    }

    public static double Median(double[] v)
    {
        double[] s = [.. v.Order()];
        return s.Length % 2 == 1 ? s[s.Length / 2] : (s[(s.Length / 2) - 1] + s[s.Length / 2]) / 2;
    }
}
