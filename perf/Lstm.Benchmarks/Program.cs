using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Exporters.Json;
using BenchmarkDotNet.Filters;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using Lstm.Benchmarks;
using Lstm.Simd;

if (args.Contains("--verify-activations"))
{
    return ActivationVerifier.Run(args.Contains("--quick") ? 16u : 1u);
}

if (args.Contains("--sessions"))
{
    int formatAt = Array.IndexOf(args, "--format");
    return SessionLoad.Run(args.Contains("--quick"), formatAt >= 0 && formatAt + 1 < args.Length
        ? Enum.Parse<WeightFormat>(args[formatAt + 1], ignoreCase: true) : WeightFormat.Float32);
}

int soakAt = Array.IndexOf(args, "--soak");
if (soakAt >= 0)
{
    return Soak.Run(soakAt + 1 < args.Length ? long.Parse(args[soakAt + 1], System.Globalization.CultureInfo.InvariantCulture) : 1_000_000);
}

// Short but stable: one launch, enough iterations that the ratios in one run repeat from run to run.
IConfig config = DefaultConfig.Instance
    .AddJob(Job.Default.WithLaunchCount(1).WithWarmupCount(4).WithIterationCount(12).WithIterationTime(Perfolizer.Horology.TimeInterval.FromMilliseconds(150)).AsDefault())
    .AddExporter(JsonExporter.Full)
    .AddFilter(new SimpleFilter(b => PathSupported(b.Descriptor.WorkloadMethod.Name) && PathSupported(b.Parameters.PrintInfo)))
    .WithOptions(ConfigOptions.JoinSummary | ConfigOptions.DisableLogFile);

var summaries = BenchmarkSwitcher.FromAssembly(typeof(Limits).Assembly).Run(args, config);
string table = DerivedTable.Build(summaries);
Console.WriteLine(table);
Directory.CreateDirectory("BenchmarkDotNet.Artifacts");
File.WriteAllText(Path.Combine("BenchmarkDotNet.Artifacts", "derived.md"), table);
return 0;

static bool PathSupported(string text) =>
    (!text.Contains("Avx512", StringComparison.OrdinalIgnoreCase) || SimdPaths.IsSupported(SimdPath.Avx512))
    && (!text.Contains("Avx2", StringComparison.OrdinalIgnoreCase) || SimdPaths.IsSupported(SimdPath.Avx2))
    && (!text.Contains("Vector128", StringComparison.OrdinalIgnoreCase) || SimdPaths.IsSupported(SimdPath.Vector128));
