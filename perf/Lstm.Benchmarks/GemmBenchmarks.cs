using BenchmarkDotNet.Attributes;
using Lstm.Simd;

namespace Lstm.Benchmarks;

/// <summary>The gate GEMM C = A·Wᵀ + bias on every path: the latency case (M = 1), a batch, a square case, an odd one.</summary>
[BenchmarkCategory("Kernel")]
public class GemmBenchmarks
{
    private float[] a = [];
    private float[] c = [];
    private PackedMatrix w = null!;

    /// <summary>"M x N x K". 1x1024x256 is W_hh of H = 256 at batch 1 (1 MiB of weights); 1x512x128 is H = 128.</summary>
    [Params("1x512x128", "1x1024x256", "1x2048x512", "64x1024x256", "256x256x256", "512x512x512", "33x100x37")]
    public string Shape { get; set; } = "1x1024x256";

    [ParamsSource(typeof(Paths), nameof(Paths.Available))]
    public SimdPath Path { get; set; }

    public int M => int.Parse(Shape.Split('x')[0], System.Globalization.CultureInfo.InvariantCulture);

    public int N => int.Parse(Shape.Split('x')[1], System.Globalization.CultureInfo.InvariantCulture);

    public int K => int.Parse(Shape.Split('x')[2], System.Globalization.CultureInfo.InvariantCulture);

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(1);
        float[] weights = Enumerable.Range(0, N * K).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray();
        float[] bias = Enumerable.Range(0, N).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray();
        w = PackedMatrix.Pack(weights, N, K, bias);
        a = Enumerable.Range(0, M * K).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray();
        c = new float[M * N];
    }

    [Benchmark]
    public void Multiply() => Gemm.Multiply(a, M, w, c, Path);
}

/// <summary>The two backward products at an LSTM's sizes: dA = dC·W and dW += dCᵀ·A over T·B rows.</summary>
[BenchmarkCategory("Kernel")]
public class GemmBackwardBenchmarks
{
    private const int N = 1024, K = 256, M = 256;
    private readonly float[] dc = new float[M * N];
    private readonly float[] da = new float[M * K];
    private readonly float[] a = new float[M * K];
    private readonly float[] dw = new float[N * K];
    private PackedMatrix w = null!;

    [ParamsSource(typeof(Paths), nameof(Paths.Available))]
    public SimdPath Path { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(2);
        foreach (float[] x in new[] { dc, a })
        {
            for (int i = 0; i < x.Length; i++) x[i] = (float)(rng.NextDouble() - 0.5);
        }
        w = PackedMatrix.Pack(Enumerable.Range(0, N * K).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray(), N, K, forBackward: true);
    }

    [Benchmark]
    public void MultiplyByWeights() => Gemm.MultiplyByWeights(dc, M, w, da, path: Path);

    [Benchmark]
    public void AccumulateWeightGradient() => Gemm.AccumulateWeightGradient(dc, a, M, N, K, dw, Path);
}
