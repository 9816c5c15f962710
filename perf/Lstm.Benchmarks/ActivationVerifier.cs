using Lstm.Experiments;
using Lstm.Experiments.CharModel;
using Lstm.Core.Reference;
using Lstm.Simd;

namespace Lstm.Benchmarks;

/// <summary>The exhaustive accuracy check: every float in [-20, 20] (about 2.2e9 inputs); exits 1 if a bound is broken.</summary>
public static class ActivationVerifier
{
    public static int Run(uint stride)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var lines = KernelVerifier.Activations(stride);
        Console.WriteLine($"path {SimdPaths.Name(SimdPaths.Default)}, {clock.Elapsed.TotalSeconds:F0} s");
        foreach (VerificationLine l in lines)
        {
            Console.WriteLine($"{(l.Passed ? "ok  " : "FAIL")} {l.Check}: {l.Worst:G4} {l.Unit} (bound {l.Bound:G4})");
        }
        return lines.All(l => l.Passed) ? 0 : 1;
    }
}
