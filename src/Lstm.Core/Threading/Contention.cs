using System.Diagnostics;

namespace Lstm.Core.Threading;

/// <summary>
/// Whether another process (or another of this process's teams) has taken a core: then a second thread of ours only
/// waits for the scheduler, and every team runs on its calling thread alone for a while. Process-wide, because a taken
/// core is taken for every team. A team that sees contention (a worker that did not start its share in time, or a
/// share that ended far behind the caller's) reports it; the window then lasts <see cref="InitialWindow"/>, doubling
/// up to <see cref="MaxWindow"/> while reports keep coming, and starts again from the first after
/// <see cref="QuietSpan"/> without one. So under steady load a team pays for one failed try per second at most, and
/// when the load goes, it is parallel again within a second.
/// </summary>
internal static class Contention
{
    public static readonly TimeSpan InitialWindow = TimeSpan.FromMilliseconds(10);
    public static readonly TimeSpan MaxWindow = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan QuietSpan = TimeSpan.FromSeconds(2);

    private static readonly long InitialTicks = Ticks(InitialWindow), MaxTicks = Ticks(MaxWindow), QuietTicks = Ticks(QuietSpan);

    private static long aloneUntil;
    private static long window;
    private static long lastReport = long.MinValue / 2;
    private static long reports;

    /// <summary>True while runs should stay on their calling threads.</summary>
    public static bool Active => Stopwatch.GetTimestamp() < Volatile.Read(ref aloneUntil);

    /// <summary>Contention reports so far (diagnostics).</summary>
    public static long Reports => Volatile.Read(ref reports);

    // Races between teams reporting at once only pick one of two nearly equal windows.
    public static void Report()
    {
        long now = Stopwatch.GetTimestamp();
        long w = now - Volatile.Read(ref lastReport) < QuietTicks ? Math.Min(MaxTicks, Math.Max(InitialTicks, 2 * Volatile.Read(ref window))) : InitialTicks;
        Volatile.Write(ref window, w);
        Volatile.Write(ref lastReport, now);
        Volatile.Write(ref aloneUntil, now + w);
        Interlocked.Increment(ref reports);
    }

    /// <summary>Tests: forget every report.</summary>
    internal static void Reset()
    {
        Volatile.Write(ref aloneUntil, 0);
        Volatile.Write(ref window, 0);
        Volatile.Write(ref lastReport, long.MinValue / 2);
    }

    public static long Ticks(TimeSpan span) => (long)(span.TotalSeconds * Stopwatch.Frequency);
}
