using System.Globalization;
using System.Text;
using Lstm.Core;
using Microsoft.ML.OnnxRuntime;

namespace Lstm.Benchmarks.Peers;

/// <summary>
/// Issue 11's cases: our 16-bit and int8 weights against ONNX Runtime float32 and int8 (DynamicQuantizeLSTM) and
/// TorchSharp float32, one thread. Each quantized way's error is measured against our float32 outputs on the same
/// inputs before anything is timed.
/// </summary>
internal static class Quantized
{
    public static List<QuantRow> Run(Args opts)
    {
        var rows = new List<QuantRow>();
        foreach (int h in opts.Quick ? new[] { 128 } : [256, 512])
        {
            using var m = new Models(h, threads: 1);
            using var onnxInt8 = OnnxSession(m, int8: true);
            using var r = new QuantSteps(m, onnxInt8, Data.Uniform(h, 3));
            var errors = r.Errors(50);
            var t = Timing.Compare(opts.Rounds, opts.RoundMs, r.Contenders(includeTorch: false));
            rows.Add(new QuantRow("step", h, 1, 1, t, errors));
        }
        foreach (int h in opts.Quick ? new[] { 64 } : [256])
        {
            const int T = 100;
            using var m = new Models(h, threads: 1);
            using var onnxInt8 = OnnxSession(m, int8: true);
            using var r = new QuantSequences(m, onnxInt8, T, 1, Data.Uniform(T * h, 4));
            var t = Timing.Compare(opts.Rounds, opts.RoundMs, r.Contenders());
            rows.Add(new QuantRow("seq1", h, 1, T, t, r.Errors()));
        }
        return rows;
    }

    public static InferenceSession OnnxSession(Models m, bool int8)
    {
        float[] wih = m.Ours.GetParameter("weight_ih_l0"), whh = m.Ours.GetParameter("weight_hh_l0");
        float[] bih = m.Ours.GetParameter("bias_ih_l0"), bhh = m.Ours.GetParameter("bias_hh_l0");
        using var options = new SessionOptions
        {
            IntraOpNumThreads = 1,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        };
        int h = m.Hidden;
        return new InferenceSession(int8 ? OnnxLstmModel.BuildInt8(h, h, wih, whh, bih, bhh) : OnnxLstmModel.Build(h, h, wih, whh, bih, bhh), options);
    }

    public static string Markdown(IEnumerable<QuantRow> rows)
    {
        var sb = new StringBuilder();
        sb.AppendLine("| case | H | T | way | µs (median) | rounds min–max µs | ORT f32 / way | ORT int8 / way | Torch f32 / way | rms error | max error |");
        sb.AppendLine("|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (QuantRow r in rows)
        {
            Timing.Result? ortF32 = r.Times.FirstOrDefault(t => t.Name == "ORT float32"), ortI8 = r.Times.FirstOrDefault(t => t.Name == "ORT int8");
            Timing.Result? torch = r.Times.FirstOrDefault(t => t.Name == "Torch float32");
            foreach (Timing.Result t in r.Times)
            {
                string Ratio(Timing.Result? other) => other is null ? "–" : Timing.Ratio(t, other).ToString("F2", CultureInfo.InvariantCulture) + "×";
                var (rms, max) = r.Errors.TryGetValue(t.Name, out var e) ? e : new ErrorStat(double.NaN, double.NaN);
                sb.AppendLine(CultureInfo.InvariantCulture,
                    $"| {(r.Case == "step" ? "streaming step" : "sequence B = 1")} | {r.Hidden} | {r.Steps} | {t.Name} | {t.MedianMicroseconds:F2} | " +
                    $"{t.Rounds.Min():F2}–{t.Rounds.Max():F2} | {Ratio(ortF32)} | {Ratio(ortI8)} | {Ratio(torch)} | " +
                    $"{(double.IsNaN(rms) ? "–" : rms.ToString("E1", CultureInfo.InvariantCulture))} | {(double.IsNaN(max) ? "–" : max.ToString("E1", CultureInfo.InvariantCulture))} |");
            }
        }
        return sb.ToString();
    }

    /// <summary>rms and max of |a - reference| over all elements.</summary>
    public static ErrorStat Error(float[] a, float[] reference)
    {
        double sum = 0, max = 0;
        for (int i = 0; i < a.Length; i++)
        {
            double d = Math.Abs((double)a[i] - reference[i]);
            sum += d * d;
            max = Math.Max(max, double.IsNaN(d) ? double.PositiveInfinity : d);
        }
        return new ErrorStat(Math.Sqrt(sum / Math.Max(1, a.Length)), max);
    }
}

internal sealed record QuantRow(string Case, int Hidden, int Batch, int Steps, Timing.Result[] Times, Dictionary<string, ErrorStat> Errors);

/// <summary>rms and max absolute difference from our float32 outputs.</summary>
internal readonly record struct ErrorStat(double Rms, double Max);
