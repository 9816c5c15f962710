using System.Diagnostics;

namespace Lstm.Benchmarks.Peers;

/// <summary>
/// Interleaved timing: each round times every contender once, in rotating order, so that a noisy neighbour hits them
/// alike; the reported time is the median over rounds, and the ratio is taken within each round, then its median.
/// </summary>
internal static class Timing
{
    private const int QuietMilliseconds = 200;

    public sealed record Result(string Name, double MedianMicroseconds, double[] Rounds);

    public static Result[] Compare(int rounds, double roundMilliseconds, params (string Name, Action Run)[] contenders)
    {
        int[] iterations = new int[contenders.Length];
        for (int c = 0; c < contenders.Length; c++)
        {
            // Warm up (JIT tiers, first-call setup), then size a round to about roundMilliseconds.
            for (int i = 0; i < 3; i++) contenders[c].Run();
            long t0 = Stopwatch.GetTimestamp();
            int n = 0;
            while (Stopwatch.GetElapsedTime(t0).TotalMilliseconds < roundMilliseconds / 4 || n < 2)
            {
                contenders[c].Run();
                n++;
            }
            double each = Stopwatch.GetElapsedTime(t0).TotalMilliseconds / n;
            iterations[c] = Math.Max(1, (int)(roundMilliseconds / each));
        }
        var times = contenders.Select(_ => new double[rounds]).ToArray();
        for (int r = 0; r < rounds; r++)
        {
            for (int k = 0; k < contenders.Length; k++)
            {
                int c = (r + k) % contenders.Length;
                // Let the previous contender's spinning worker threads (OpenMP, ORT, ours) go idle first: 30 ms was not enough (our
                // teams, which step aside for a thread that holds a core, then ran alone after a 2-thread libtorch round).
                Thread.Sleep(QuietMilliseconds);
                long t0 = Stopwatch.GetTimestamp();
                for (int i = 0; i < iterations[c]; i++) contenders[c].Run();
                times[c][r] = Stopwatch.GetElapsedTime(t0).TotalMicroseconds / iterations[c];
            }
        }
        return contenders.Select((c, i) => new Result(c.Name, Median(times[i]), times[i])).ToArray();
    }

    /// <summary>The median over rounds of their time / ours.</summary>
    public static double Ratio(Result ours, Result theirs) => Median(ours.Rounds.Zip(theirs.Rounds, (o, t) => t / o).ToArray());

    public static double Median(double[] v)
    {
        double[] s = [.. v.Order()];
        return s.Length % 2 == 1 ? s[s.Length / 2] : (s[(s.Length / 2) - 1] + s[s.Length / 2]) / 2;
    }
}
