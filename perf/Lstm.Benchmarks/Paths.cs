using Lstm.Simd;

namespace Lstm.Benchmarks;

/// <summary>The registry's paths, as benchmark parameters: every path this CPU has, scalar included.</summary>
public static class Paths
{
    public static IEnumerable<SimdPath> Available => SimdPaths.Available;
}
