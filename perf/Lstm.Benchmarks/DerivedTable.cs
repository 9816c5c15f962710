using System.Globalization;
using System.Text;
using BenchmarkDotNet.Reports;

namespace Lstm.Benchmarks;

/// <summary>
/// Turns one run's times into what they mean: GFLOP/s and the fraction of the FMA peak for GEMMs, GB/s and the
/// fraction of the read bandwidth for M = 1, elements per ns and the ratio to TensorPrimitives for activations.
/// Every ratio uses limits measured in the same run.
/// </summary>
public static class DerivedTable
{
    public static string Build(IEnumerable<Summary> summaries)
    {
        var reports = summaries.SelectMany(s => s.Reports).Where(r => r.ResultStatistics is not null).ToList();
        double Mean(BenchmarkReport r) => r.ResultStatistics!.Mean; // ns
        string Method(BenchmarkReport r) => r.BenchmarkCase.Descriptor.WorkloadMethod.Name;
        object? Param(BenchmarkReport r, string name) => r.BenchmarkCase.Parameters.Items.FirstOrDefault(p => p.Name == name)?.Value;
        var ci = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();

        double peak512 = 0, peak256 = 0;
        var bandwidth = new SortedDictionary<int, double>();
        foreach (BenchmarkReport r in reports.Where(r => r.BenchmarkCase.Descriptor.Type == typeof(Limits)))
        {
            double flops512 = Limits.FmaIterations * 12 * 16 * 2.0, flops256 = Limits.FmaIterations * 12 * 8 * 2.0;
            switch (Method(r))
            {
                case nameof(Limits.FmaPeakVector512): peak512 = Math.Max(peak512, flops512 / Mean(r)); break;
                case nameof(Limits.FmaPeakVector256): peak256 = Math.Max(peak256, flops256 / Mean(r)); break;
                case nameof(Limits.ReadVector512): bandwidth[(int)Param(r, "Bytes")!] = (int)Param(r, "Bytes")! / Mean(r); break;
            }
        }
        if (peak512 > 0 || bandwidth.Count > 0)
        {
            sb.AppendLine("Machine limits (this run): " + string.Create(ci, $"FMA peak Vector512 {peak512:F1} GFLOP/s, Vector256 {peak256:F1} GFLOP/s; read bandwidth ")
                + string.Join(", ", bandwidth.Select(b => string.Create(ci, $"{b.Key / 1024} KiB: {b.Value:F1} GB/s"))));
            sb.AppendLine();
        }

        var gemm = reports.Where(r => r.BenchmarkCase.Descriptor.Type == typeof(GemmBenchmarks)).ToList();
        if (gemm.Count > 0)
        {
            sb.AppendLine("| GEMM M×N×K | path | µs | GFLOP/s | of FMA peak | weights GB/s | of read bandwidth |");
            sb.AppendLine("|---|---|---:|---:|---:|---:|---:|");
            foreach (BenchmarkReport r in gemm)
            {
                int[] s = ((string)Param(r, "Shape")!).Split('x').Select(v => int.Parse(v, ci)).ToArray();
                var path = (Lstm.Simd.SimdPath)Param(r, "Path")!;
                double gflops = 2.0 * s[0] * s[1] * s[2] / Mean(r);
                // Vector128 against half the Vector256 peak: the same FMA instructions per cycle with half the lanes
                // on x86 (not measured apart; the limit loops are x86 vectors).
                double peak = path switch
                {
                    Lstm.Simd.SimdPath.Avx512 => peak512,
                    Lstm.Simd.SimdPath.Vector128 => peak256 / 2,
                    _ => peak256,
                };
                double bytes = 4.0 * s[1] * s[2];
                double gbs = bytes / Mean(r);
                double bw = bandwidth.FirstOrDefault(b => b.Key >= bytes, bandwidth.LastOrDefault()).Value;
                sb.AppendLine(ci, $"| {s[0]}×{s[1]}×{s[2]} | {path} | {Mean(r) / 1000:F2} | {gflops:F1} | {Pct(gflops, peak)} | {gbs:F1} | {(s[0] == 1 ? Pct(gbs, bw) : "–")} |");
            }
            sb.AppendLine();
        }

        var quantized = reports.Where(r => r.BenchmarkCase.Descriptor.Type == typeof(QuantizedGemmBenchmarks)).ToList();
        if (quantized.Count > 0)
        {
            // The bound for a format is its own byte count over the bandwidth of the cache level that size lands in.
            sb.AppendLine("| GEMM M×N×K | format | path | µs | × float32 | weights GB/s | of read bandwidth |");
            sb.AppendLine("|---|---|---|---:|---:|---:|---:|");
            foreach (BenchmarkReport r in quantized)
            {
                string shape = (string)Param(r, "Shape")!;
                int[] s = shape.Split('x').Select(v => int.Parse(v, ci)).ToArray();
                var format = (Lstm.Simd.WeightFormat)Param(r, "Format")!;
                var path = (Lstm.Simd.SimdPath)Param(r, "Path")!;
                BenchmarkReport? f32 = quantized.FirstOrDefault(x => (string)Param(x, "Shape")! == shape && (Lstm.Simd.SimdPath)Param(x, "Path")! == path
                    && (Lstm.Simd.WeightFormat)Param(x, "Format")! == Lstm.Simd.WeightFormat.Float32);
                double bytes = QuantizedGemmBenchmarks.WeightBytes(format, s[1], s[2]);
                double gbs = bytes / Mean(r);
                double bw = bandwidth.FirstOrDefault(b => b.Key >= bytes, bandwidth.LastOrDefault()).Value;
                sb.AppendLine(ci, $"| {shape.Replace('x', '×')} | {format} | {path} | {Mean(r) / 1000:F2} | {(f32 is null ? "–" : (Mean(f32) / Mean(r)).ToString("F2", ci))} | {gbs:F1} | {(s[0] == 1 ? Pct(gbs, bw) : "–")} |");
            }
            sb.AppendLine();
        }

        var act = reports.Where(r => r.BenchmarkCase.Descriptor.Type == typeof(ActivationBenchmarks)).ToList();
        if (act.Count > 0)
        {
            sb.AppendLine("| activation | N | elements/ns | × TensorPrimitives |");
            sb.AppendLine("|---|---:|---:|---:|");
            foreach (BenchmarkReport r in act)
            {
                int n = (int)Param(r, "N")!;
                string fn = Method(r).StartsWith("Tanh", StringComparison.Ordinal) ? "Tanh" : "Sigmoid";
                BenchmarkReport? tp = act.FirstOrDefault(x => Method(x) == fn + "TensorPrimitives" && (int)Param(x, "N")! == n);
                sb.AppendLine(ci, $"| {Method(r)} | {n} | {n / Mean(r):F2} | {(tp is null ? "–" : (Mean(tp) / Mean(r)).ToString("F2", ci))} |");
            }
        }

        var step = reports.Where(r => r.BenchmarkCase.Descriptor.Type == typeof(StepBenchmarks)).ToList();
        if (step.Count > 0)
        {
            sb.AppendLine();
            sb.AppendLine("| streaming step, B = 1, I = H | path | µs per step | weights GB/s | of read bandwidth | allocated B/op |");
            sb.AppendLine("|---|---|---:|---:|---:|---:|");
            foreach (BenchmarkReport r in step)
            {
                int h = (int)Param(r, "H")!;
                double bytes = 4.0 * 4 * h * (2 * h);
                double bw = bandwidth.FirstOrDefault(b => b.Key >= bytes, bandwidth.LastOrDefault()).Value;
                sb.AppendLine(ci, $"| H = {h}, {Param(r, "Threads")} thread(s) | {Param(r, "Path")} | {Mean(r) / 1000:F2} | {bytes / Mean(r):F1} | {Pct(bytes / Mean(r), bw)} | {r.GcStats.GetBytesAllocatedPerOperation(r.BenchmarkCase) ?? 0} |");
            }
        }

        var seq = reports.Where(r => r.BenchmarkCase.Descriptor.Type == typeof(SequenceBenchmarks) || r.BenchmarkCase.Descriptor.Type == typeof(TrainBenchmarks)).ToList();
        if (seq.Count > 0)
        {
            sb.AppendLine();
            sb.AppendLine("| sequence, T = 100, I = H | B | threads | µs per step | GFLOP/s |");
            sb.AppendLine("|---|---:|---:|---:|---:|");
            foreach (BenchmarkReport r in seq)
            {
                int b = (int)Param(r, "B")!, h = Param(r, "H") is int ph ? ph : TrainBenchmarks.H;
                bool train = Method(r) is nameof(TrainBenchmarks.TrainingStep) or nameof(TrainBenchmarks.TrainingStepInto);
                double flops = 2.0 * SequenceBenchmarks.T * b * 4 * h * (2 * h) * (train ? 3 : 1);
                sb.AppendLine(ci, $"| {Method(r)}, H = {h} | {b} | {Param(r, "Threads") ?? 1} | {Mean(r) / 1000 / SequenceBenchmarks.T:F2} | {flops / Mean(r):F1} |");
            }
        }
        return sb.ToString();
    }

    private static string Pct(double value, double limit) =>
        limit > 0 ? (100 * value / limit).ToString("F0", CultureInfo.InvariantCulture) + "%" : "–";
}
