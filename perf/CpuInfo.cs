namespace Lstm.Perf;

/// <summary>This machine's CPU model, and the folder name its results live under in perf/results/.</summary>
internal static class CpuInfo
{
    public static string Model() =>
        File.Exists("/proc/cpuinfo")
            ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown CPU"
            : "unknown CPU";

    public static string Slug(string cpu) =>
        new string(cpu.ToLowerInvariant().Select(c => char.IsAsciiLetterOrDigit(c) ? c : '-').ToArray()).Trim('-').Replace("--", "-", StringComparison.Ordinal);
}
