using Lstm.Core;
using Lstm.Simd;
using Spectre.Console;

namespace Lstm.Cli;

/// <summary>`lstm bench`'s weight-format rows: each format's step and sequence time, and its error against float32.</summary>
public static class BenchFormats
{
    private static readonly int[] Hidden = [256, 512];

    /// <summary>The table at H = 256 and 512, or at <paramref name="hidden"/>.</summary>
    public static Table Table(double budget, Func<Action, double, double> time, int[]? hidden = null)
    {
        ArgumentNullException.ThrowIfNull(time);
        var table = new Table().Border(TableBorder.Rounded)
            .AddColumns("step, B = 1", "weights", "µs per step", "speed vs float32", "rms error", "max error");
        foreach (int h in hidden ?? Hidden)
        {
            RecurrentNetwork float32 = RecurrentNetwork.Create(new RecurrentOptions(h, h), 1);
            const int T = 50;
            var rng = new Random(2);
            float[] x = [.. Enumerable.Range(0, T * h).Select(_ => (float)((rng.NextDouble() * 2) - 1))];
            float[] reference = float32.Forward(x, T, 1).Output;
            double baseline = 0;
            foreach (WeightFormat format in WeightFormats.All)
            {
                RecurrentNetwork net = float32.WithWeightFormat(format);
                using StreamState state = net.CreateStream();
                float[] xt = x[..h], y = new float[h];
                double us = time(() => net.Step(state, xt, y), budget);
                baseline = format == WeightFormat.Float32 ? us : baseline;
                (double rms, double max) = Error(net.Forward(x, T, 1).Output, reference);
                bool exact = format == WeightFormat.Float32;
                table.AddRow($"H = I = {h}", WeightFormats.Name(format), $"{us:F2}", $"{baseline / us:F2}×", exact ? "–" : $"{rms:0.00e0}", exact ? "–" : $"{max:0.00e0}");
            }
        }
        return table.Caption($"[grey]error against float32: a T = 50 sequence's outputs (x ~ U(-1, 1), weights U(-1/√H, 1/√H)); kernels {SimdPaths.Name(SimdPaths.Default)}[/]");
    }

    private static (double Rms, double Max) Error(float[] actual, float[] reference)
    {
        double sum = 0, max = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            double e = Math.Abs((double)actual[i] - reference[i]);
            sum += e * e;
            max = Math.Max(max, e);
        }
        return (Math.Sqrt(sum / actual.Length), max);
    }
}
