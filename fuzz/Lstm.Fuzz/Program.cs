using System.Diagnostics;
using Lstm.Fuzz;

// Usage: lstm-fuzz [--seconds N] [--target npy|npz|safetensors|checkpoint|import|all] [--seed S] [--findings DIR]
//        lstm-fuzz --afl TARGET     (SharpFuzz: run under afl-fuzz after instrumenting Lstm.Core.dll with `sharpfuzz`)
// Mutates valid files for a fixed time; every input must read or give InvalidDataException, within the target's
// allocation bound and in under a second. A finding is written to --findings and the exit code is 1.
double seconds = 30;
string which = "all", findings = "fuzz-findings";
int seed = Environment.TickCount;
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--seconds": seconds = double.Parse(args[++i], System.Globalization.CultureInfo.InvariantCulture); break;
        case "--target": which = args[++i]; break;
        case "--seed": seed = int.Parse(args[++i], System.Globalization.CultureInfo.InvariantCulture); break;
        case "--findings": findings = args[++i]; break;
        case "--afl":
            FuzzTarget afl = FuzzTargets.Get(args[++i]);
            SharpFuzz.Fuzzer.OutOfProcess.Run(stream =>
            {
                using var ms = new MemoryStream();
                stream.CopyTo(ms);
                if (FuzzTargets.Run(afl, ms.ToArray(), out _) is { } finding)
                {
                    throw new InvalidOperationException(finding); // AFL records it as a crash
                }
            });
            return 0;
        default:
            Console.Error.WriteLine($"unknown argument {args[i]}");
            return 2;
    }
}

FuzzTarget[] targets = which == "all" ? [.. FuzzTargets.All] : [FuzzTargets.Get(which)];
Console.WriteLine($"fuzzing {string.Join(", ", targets.Select(t => t.Name))} for {seconds} s each, seed {seed}");
int found = 0;
foreach (FuzzTarget target in targets)
{
    var mutator = new Mutator(seed);
    var clock = Stopwatch.StartNew();
    long runs = 0, worstAllocation = 0;
    double worstRatio = 0, slowest = 0;
    while (clock.Elapsed.TotalSeconds < seconds)
    {
        byte[] input = mutator.Mutate(target.Seeds);
        long t0 = Stopwatch.GetTimestamp();
        string? finding = FuzzTargets.Run(target, input, out long allocated);
        double ms = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
        runs++;
        slowest = Math.Max(slowest, ms);
        worstAllocation = Math.Max(worstAllocation, allocated);
        worstRatio = Math.Max(worstRatio, input.Length == 0 ? 0 : (double)allocated / input.Length);
        if (finding is null && ms > 1000)
        {
            finding = $"took {ms:F0} ms";
        }
        if (finding is not null)
        {
            Directory.CreateDirectory(findings);
            string file = Path.Combine(findings, $"{target.Name}-{Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(input))[..16]}.bin");
            File.WriteAllBytes(file, input);
            Console.WriteLine($"  FINDING {target.Name}: {finding} -> {file}");
            found++;
        }
    }
    Console.WriteLine($"  {target.Name,-12} {runs,9:N0} inputs  {runs / clock.Elapsed.TotalSeconds,8:N0}/s  slowest {slowest,7:F1} ms  " +
        $"most allocated {worstAllocation,12:N0} B  worst allocated/length {worstRatio,8:F1}");
}
Console.WriteLine(found == 0 ? "no findings" : $"{found} findings");
return found == 0 ? 0 : 1;
