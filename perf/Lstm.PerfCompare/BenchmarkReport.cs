using System.Text.Json;

namespace Lstm.PerfCompare;

/// <summary>
/// The per-iteration times (nanoseconds per operation) of every benchmark in BenchmarkDotNet full JSON reports:
/// the workload's "Result" measurements (actual runs less overhead, outliers removed), or its "Actual" ones.
/// </summary>
internal static class BenchmarkReport
{
    public sealed record Benchmark(string Name, double[] Nanoseconds, string Processor);

    /// <summary>Reads a report file, or every <c>*-report-full.json</c> under a directory.</summary>
    public static Dictionary<string, Benchmark> Load(string path)
    {
        IEnumerable<string> files = Directory.Exists(path)
            ? Directory.EnumerateFiles(path, "*-report-full.json", SearchOption.AllDirectories).Order(StringComparer.Ordinal)
            : File.Exists(path) ? [path] : throw new FileNotFoundException($"No report at {path}.", path);
        var result = new Dictionary<string, Benchmark>(StringComparer.Ordinal);
        foreach (string file in files)
        {
            using JsonDocument doc = JsonDocument.Parse(File.ReadAllBytes(file));
            string processor = doc.RootElement.TryGetProperty("HostEnvironmentInfo", out JsonElement host) && host.TryGetProperty("ProcessorName", out JsonElement p)
                ? p.GetString() ?? "" : "";
            foreach (JsonElement b in doc.RootElement.GetProperty("Benchmarks").EnumerateArray())
            {
                string name = b.GetProperty("FullName").GetString()!;
                double[] values = Values(b, "Result");
                if (values.Length == 0) values = Values(b, "Actual");
                if (values.Length > 0) result[name] = new Benchmark(name, values, processor);
            }
        }
        if (result.Count == 0)
        {
            throw new InvalidDataException($"{path} holds no BenchmarkDotNet measurements (export with JsonExporter.Full).");
        }
        return result;
    }

    private static double[] Values(JsonElement benchmark, string stage)
    {
        if (!benchmark.TryGetProperty("Measurements", out JsonElement ms))
        {
            return [];
        }
        return ms.EnumerateArray()
            .Where(m => m.GetProperty("IterationMode").GetString() == "Workload" && m.GetProperty("IterationStage").GetString() == stage)
            .Select(m => m.GetProperty("Nanoseconds").GetDouble() / m.GetProperty("Operations").GetDouble())
            .ToArray();
    }
}
