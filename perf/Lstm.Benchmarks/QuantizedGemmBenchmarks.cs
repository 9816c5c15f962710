using BenchmarkDotNet.Attributes;
using Lstm.Simd;
using Lstm.Simd.QuantizedKernels;

namespace Lstm.Benchmarks;

/// <summary>
/// The gate GEMM with fewer bytes per weight beside float32, on every path: the GEMV of one streaming step (M = 1)
/// and a batch of 64 (compute-bound). Shapes are W_hh's [4H, H] at H = 128, 256, 512.
/// </summary>
[BenchmarkCategory("Kernel")]
public class QuantizedGemmBenchmarks
{
    private float[] a = [];
    private float[] c = [];
    private PackedMatrix? f32;
    private PackedHalfMatrix? half;
    private PackedInt8Matrix? int8;

    /// <summary>"M x N x K".</summary>
    [Params("1x512x128", "1x1024x256", "1x2048x512", "64x1024x256", "64x2048x512")]
    public string Shape { get; set; } = "1x1024x256";

    [Params(WeightFormat.Float32, WeightFormat.Float16, WeightFormat.BFloat16, WeightFormat.Int8)]
    public WeightFormat Format { get; set; }

    [ParamsSource(typeof(Paths), nameof(Paths.Available))]
    public SimdPath Path { get; set; }

    public int M => Dimension(0);

    public int N => Dimension(1);

    public int K => Dimension(2);

    /// <summary>Bytes of weights one call reads (the packed payload; scales and row sums of int8 are N floats each).</summary>
    public static double WeightBytes(WeightFormat format, int n, int k) => format switch
    {
        WeightFormat.Float32 => 4.0 * n * k,
        WeightFormat.Int8 => (1.0 * n * k) + (8.0 * n),
        _ => 2.0 * n * k,
    };

    private int Dimension(int i) => int.Parse(Shape.Split('x')[i], System.Globalization.CultureInfo.InvariantCulture);

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(1);
        float[] weights = Enumerable.Range(0, N * K).Select(_ => (float)(rng.NextDouble() - 0.5) / 8).ToArray();
        float[] bias = Enumerable.Range(0, N).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray();
        switch (Format)
        {
            case WeightFormat.Float32:
                f32 = PackedMatrix.Pack(weights, N, K, bias);
                break;
            case WeightFormat.Int8:
                int8 = PackedInt8Matrix.Quantize(weights, N, K, bias);
                break;
            default:
                half = PackedHalfMatrix.Pack(weights, N, K, Format, bias);
                break;
        }
        a = Enumerable.Range(0, M * K).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray();
        c = new float[M * N];
    }

    [Benchmark]
    public void Multiply()
    {
        if (f32 is not null)
        {
            Gemm.Multiply(a, M, K, f32, c, N, Path);
        }
        else if (half is not null)
        {
            QuantizedGemm.Multiply(a, M, K, half, c, N, accumulate: false, Path);
        }
        else
        {
            QuantizedGemm.Multiply(a, M, K, int8!, c, N, accumulate: false, Path);
        }
    }
}

/// <summary>Each int8 integer tile this CPU runs (VNNI and the widening ones), to check which one each path should pick.</summary>
[BenchmarkCategory("Kernel")]
public class Int8TileBenchmarks
{
    private float[] a = [];
    private float[] c = [];
    private PackedInt8Matrix w = null!;

    [Params("1x1024x256", "1x2048x512", "64x1024x256")]
    public string Shape { get; set; } = "1x1024x256";

    [ParamsSource(nameof(Tiles))]
    public string Tile { get; set; } = nameof(Int8Kernel.Scalar);

    public static IEnumerable<string> Tiles => Int8Kernels.Available.Select(k => k.ToString());

    private int Dimension(int i) => int.Parse(Shape.Split('x')[i], System.Globalization.CultureInfo.InvariantCulture);

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(3);
        int m = Dimension(0), n = Dimension(1), k = Dimension(2);
        w = PackedInt8Matrix.Quantize(Enumerable.Range(0, n * k).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray(), n, k);
        a = Enumerable.Range(0, m * k).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray();
        c = new float[m * n];
    }

    [Benchmark]
    public void Multiply() => QuantizedGemm.Multiply(a, Dimension(0), Dimension(2), w, c, Dimension(1), accumulate: false, Enum.Parse<Int8Kernel>(Tile));
}
