using System.Diagnostics;
using Lstm.Simd;

namespace Lstm.Benchmarks;

/// <summary>
/// The exhaustive accuracy check: every float in [-20, 20] (about 2.2e9 inputs) through sigmoid and tanh, against
/// the double-precision oracle. Exits 1 if a bound of the README is broken. `--quick` takes every 16th float.
/// </summary>
public static class ActivationVerifier
{
    private const double SigmoidMaxUlp = 2.5, SigmoidMaxAbs = 1e-7, TanhMaxUlp = 2.5, TanhMaxAbs = 3.2e-7;

    public static int Run(uint stride)
    {
        var clock = Stopwatch.StartNew();
        uint limit = BitConverter.SingleToUInt32Bits(20f);
        var results = new (double Ulp, float UlpAt, double Abs, float AbsAt)[2];
        const int Chunk = 1 << 16;
        long chunks = ((limit / stride) + Chunk) / Chunk;
        object gate = new();
        Parallel.For(0, chunks * 2, () => new (double, float, double, float)[2], (job, _, local) =>
        {
            bool negative = (job & 1) == 1;
            uint first = (uint)(job / 2) * Chunk * stride;
            float[] x = new float[Chunk];
            int n = 0;
            for (uint b = first; n < Chunk && b <= limit; b += stride)
            {
                float v = BitConverter.UInt32BitsToSingle(b);
                x[n++] = negative ? -v : v;
            }
            Span<float> xs = x.AsSpan(0, n);
            float[] y = new float[n];
            for (int fn = 0; fn < 2; fn++)
            {
                if (fn == 0) Activation.Sigmoid(xs, y); else Activation.Tanh(xs, y);
                for (int i = 0; i < n; i++)
                {
                    double exact = fn == 0 ? 1 / (1 + Math.Exp(-(double)xs[i])) : Math.Tanh(xs[i]);
                    double err = double.IsNaN(y[i]) ? double.PositiveInfinity : Math.Abs(y[i] - exact);
                    double ulp = err / Math.Pow(2, Math.Max((exact == 0 ? -149 : Math.ILogB(Math.Abs(exact))) - 23, -149));
                    if (ulp > local[fn].Item1) local[fn] = (ulp, xs[i], local[fn].Item3, local[fn].Item4);
                    if (err > local[fn].Item3) local[fn] = (local[fn].Item1, local[fn].Item2, err, xs[i]);
                }
            }
            return local;
        }, local =>
        {
            lock (gate)
            {
                for (int fn = 0; fn < 2; fn++)
                {
                    if (local[fn].Item1 > results[fn].Ulp) { results[fn].Ulp = local[fn].Item1; results[fn].UlpAt = local[fn].Item2; }
                    if (local[fn].Item3 > results[fn].Abs) { results[fn].Abs = local[fn].Item3; results[fn].AbsAt = local[fn].Item4; }
                }
            }
        });
        bool ok = results[0].Ulp <= SigmoidMaxUlp && results[0].Abs <= SigmoidMaxAbs && results[1].Ulp <= TanhMaxUlp && results[1].Abs <= TanhMaxAbs;
        Console.WriteLine($"every {(stride == 1 ? "" : $"{stride}th ")}float in [-20, 20], path {SimdPaths.Name(SimdPaths.Default)}, {clock.Elapsed.TotalSeconds:F0} s");
        Console.WriteLine($"sigmoid: max {results[0].Ulp:F3} ulp at {results[0].UlpAt:R}, max abs {results[0].Abs:E3} at {results[0].AbsAt:R} (bounds {SigmoidMaxUlp} ulp, {SigmoidMaxAbs:E1})");
        Console.WriteLine($"tanh:    max {results[1].Ulp:F3} ulp at {results[1].UlpAt:R}, max abs {results[1].Abs:E3} at {results[1].AbsAt:R} (bounds {TanhMaxUlp} ulp, {TanhMaxAbs:E1})");
        Console.WriteLine(ok ? "all bounds hold" : "A BOUND IS BROKEN");
        return ok ? 0 : 1;
    }
}
