using System.Diagnostics;
using Lstm.Core;

namespace Lstm.Benchmarks;

/// <summary>
/// `-- --soak N`: N streaming steps of one LSTM (I = H = 128, 2 layers), reporting what was allocated after warm-up,
/// the collections, the managed heap and the working set at checkpoints along the way, so that a leak or creeping
/// growth shows; exits 1 if anything was allocated.
/// </summary>
internal static class Soak
{
    public static int Run(long steps)
    {
        RecurrentNetwork net = RecurrentNetwork.Create(new RecurrentOptions(128, 128, Layers: 2), 1);
        StreamState s = net.CreateStream();
        float[] x = new float[128], y = new float[128];
        var rng = new Lstm.Core.Training.SeededRandom(1);
        for (int i = 0; i < 10_000; i++) net.Step(s, x, y);
        GC.Collect();
        long heap0 = GC.GetTotalMemory(true), ws0 = Environment.WorkingSet;
        int gen0 = GC.CollectionCount(0), gen2 = GC.CollectionCount(2);
        Console.WriteLine($"soak: {steps:N0} steps of a 2-layer LSTM, I = H = 128, B = 1, path {net.KernelPath}");
        Console.WriteLine($"{"steps",14} {"µs/step",9} {"allocated B",12} {"heap B",12} {"working set MiB",16}");
        var clock = Stopwatch.StartNew();
        long report = Math.Max(1, steps / 10), inSteps = 0, mark = GC.GetAllocatedBytesForCurrentThread();
        for (long i = 1; i <= steps; i++)
        {
            x[(int)(i & 127)] = (float)((rng.NextDouble() * 4) - 2);
            net.Step(s, x, y);
            if (i % report == 0 || i == steps)
            {
                inSteps += GC.GetAllocatedBytesForCurrentThread() - mark; // the report's own strings are not counted
                Console.WriteLine($"{i,14:N0} {clock.Elapsed.TotalMicroseconds / i,9:F2} {inSteps,12:N0} " +
                    $"{GC.GetTotalMemory(false) - heap0,12:N0} {Environment.WorkingSet / 1048576.0,16:F1}");
                mark = GC.GetAllocatedBytesForCurrentThread();
            }
        }
        long allocated = inSteps;
        Console.WriteLine($"allocated after warm-up: {allocated:N0} B; gen0 collections {GC.CollectionCount(0) - gen0}, gen2 {GC.CollectionCount(2) - gen2}; " +
            $"working set {ws0 / 1048576.0:F1} → {Environment.WorkingSet / 1048576.0:F1} MiB; output finite: {y.All(float.IsFinite)}");
        return allocated == 0 && y.All(float.IsFinite) ? 0 : 1;
    }
}
