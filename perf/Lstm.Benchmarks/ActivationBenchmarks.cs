using System.Numerics.Tensors;
using BenchmarkDotNet.Attributes;
using Lstm.Simd;

namespace Lstm.Benchmarks;

/// <summary>Our sigmoid and tanh on every path, against TensorPrimitives (its default, 512-bit path here).</summary>
[BenchmarkCategory("Kernel")]
public class ActivationBenchmarks
{
    private float[] x = [];
    private float[] y = [];

    [Params(256, 4096, 65536)]
    public int N { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(42);
        x = Enumerable.Range(0, N).Select(_ => (float)((rng.NextDouble() * 16) - 8)).ToArray();
        y = new float[N];
    }

    [Benchmark]
    public void TanhScalar() => Activation.Tanh(x, y, SimdPath.Scalar);

    [Benchmark]
    public void TanhVector128() => Activation.Tanh(x, y, SimdPath.Vector128);

    [Benchmark]
    public void TanhAvx2() => Activation.Tanh(x, y, SimdPath.Avx2);

    [Benchmark]
    public void TanhAvx512() => Activation.Tanh(x, y, SimdPath.Avx512);

    [Benchmark(Baseline = true)]
    public void TanhTensorPrimitives() => TensorPrimitives.Tanh(x, y);

    [Benchmark]
    public void SigmoidScalar() => Activation.Sigmoid(x, y, SimdPath.Scalar);

    [Benchmark]
    public void SigmoidVector128() => Activation.Sigmoid(x, y, SimdPath.Vector128);

    [Benchmark]
    public void SigmoidAvx2() => Activation.Sigmoid(x, y, SimdPath.Avx2);

    [Benchmark]
    public void SigmoidAvx512() => Activation.Sigmoid(x, y, SimdPath.Avx512);

    [Benchmark]
    public void SigmoidTensorPrimitives() => TensorPrimitives.Sigmoid(x, y);
}

/// <summary>Subnormal and tiny inputs against ordinary ones: the kernels flush them before any arithmetic, so no slowdown.</summary>
[BenchmarkCategory("Kernel")]
public class SubnormalInputBenchmarks
{
    private readonly float[] y = new float[4096];
    private float[] x = [];

    [Params("normal", "subnormal", "hugeNegative")]
    public string Inputs { get; set; } = "normal";

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(7);
        x = Enumerable.Range(0, y.Length).Select(_ => Inputs switch
        {
            "subnormal" => BitConverter.Int32BitsToSingle(rng.Next(1, 0x007F_FFFF)) * (rng.Next(2) == 0 ? 1 : -1),
            "hugeNegative" => (float)(-88 - (rng.NextDouble() * 20)),
            _ => (float)((rng.NextDouble() * 16) - 8),
        }).ToArray();
    }

    [Benchmark]
    public void TanhAvx512() => Activation.Tanh(x, y, SimdPath.Avx512);

    [Benchmark]
    public void SigmoidAvx512() => Activation.Sigmoid(x, y, SimdPath.Avx512);

    [Benchmark]
    public void TanhAvx2() => Activation.Tanh(x, y, SimdPath.Avx2);

    [Benchmark]
    public void SigmoidAvx2() => Activation.Sigmoid(x, y, SimdPath.Avx2);
}
