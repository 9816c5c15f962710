using Lstm.Core;
using Lstm.Core.Reference;
using Lstm.Simd;

namespace Lstm.Core.Tests;

internal static class Helpers
{
    public static double[] Uniform(int n, int seed, double scale = 1)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => ((rng.NextDouble() * 2) - 1) * scale).ToArray();
    }

    public static float[] ToFloat(double[] a) => Array.ConvertAll(a, v => (float)v);

    public static double[] ToDouble(float[] a) => Array.ConvertAll(a, v => (double)v);

    public static TheoryData<SimdPath> Paths()
    {
        var d = new TheoryData<SimdPath>();
        foreach (SimdPath p in SimdPaths.Available) d.Add(p);
        return d;
    }

    /// <summary>The repository: the directory of Lstm.sln, found by walking up from the test binary.</summary>
    public static string RepositoryRoot() => Lstm.Tests.Shared.Repository.Root();

    public static string SharedDirectory() => Lstm.Tests.Shared.Repository.Shared();

    /// <summary>
    /// Runs <paramref name="step"/> until its steady state: first calls, then a pause past tiered compilation's 100 ms
    /// call-counting delay and its background tier-1 compile, then more calls. Before that, the runtime may allocate on
    /// the calling thread when a method reaches its call-count threshold (seen: 120 bytes, once in ~20 runs of the
    /// suite with other tests running), which is the runtime's start-up, not the steady state being measured.
    /// </summary>
    public static void WarmUp(Action step)
    {
        for (int round = 0; round < 3; round++)
        {
            for (int i = 0; i < 100; i++) step();
            Thread.Sleep(150);
        }
    }

    /// <summary>
    /// Bytes allocated by this thread and by the stream's worker threads (each worker counts its own thread's bytes and
    /// publishes them after every run), so a 0-byte assertion covers every thread a step runs on. Allocates nothing.
    /// </summary>
    public static long AllocatedBytes(StreamState stream, StreamState? other = null) =>
        stream.WorkerAllocatedBytes + (other?.WorkerAllocatedBytes ?? 0) + GC.GetAllocatedBytesForCurrentThread();

    /// <summary>
    /// Runs <paramref name="action"/> with teams pinned to strictly parallel (true: member j runs share j), the
    /// one-thread fallback (false), or shared (null: the library's own way, late shares taken by the caller, but
    /// parallel even while another test's contention report would send runs to the calling thread) on this thread, and
    /// restores the default afterwards even if it throws ([ThreadStatic]: the next test on this thread must not
    /// inherit the mode).
    /// </summary>
    public static void WithTeamMode(bool? parallel, Action action)
    {
        bool? before = Lstm.Core.Threading.Team.ForceParallel;
        bool ignored = Lstm.Core.Threading.Team.IgnoreContention;
        Lstm.Core.Threading.Team.ForceParallel = parallel;
        Lstm.Core.Threading.Team.IgnoreContention = parallel is null;
        try
        {
            action();
        }
        finally
        {
            Lstm.Core.Threading.Team.ForceParallel = before;
            Lstm.Core.Threading.Team.IgnoreContention = ignored;
        }
    }

    /// <summary>Worst |a - b| / (1 + |b|) over two arrays.</summary>
    public static double WorstError(float[] actual, double[] expected)
    {
        Assert.Equal(expected.Length, actual.Length);
        double w = 0;
        for (int i = 0; i < actual.Length; i++) w = Math.Max(w, Math.Abs(actual[i] - expected[i]) / (1 + Math.Abs(expected[i])));
        return w;
    }

    public static void AssertBitwise(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            if (BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(actual[i]))
            {
                Assert.Fail($"{what}[{i}] = {actual[i]:R}, expected {expected[i]:R} bit for bit");
            }
        }
    }
}
