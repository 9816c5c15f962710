using BenchmarkDotNet.Attributes;
using Lstm.Simd;

namespace Lstm.Benchmarks;

/// <summary>The fused LSTM cell, forward and backward, at batch 1 and 64.</summary>
[BenchmarkCategory("Kernel")]
public class LstmCellBenchmarks
{
    private float[] pre = [], gates = [], cPrev = [], c = [], h = [], dh = [], dc = [], dGates = [], dcPrev = [];

    [Params(1, 64)]
    public int B { get; set; }

    [Params(256)]
    public int H { get; set; }

    [ParamsSource(typeof(Paths), nameof(Paths.Available))]
    public SimdPath Path { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(3);
        float[] R(int n, double s) => Enumerable.Range(0, n).Select(_ => (float)((rng.NextDouble() - 0.5) * s)).ToArray();
        pre = R(B * 4 * H, 6);
        gates = (float[])pre.Clone();
        cPrev = R(B * H, 2);
        c = new float[B * H];
        h = new float[B * H];
        dh = R(B * H, 1);
        dc = R(B * H, 1);
        dGates = new float[B * 4 * H];
        dcPrev = new float[B * H];
        LstmCell.Forward(gates, B, H, cPrev, c, h, H, LstmCellOptions.Default, path: Path);
    }

    [Benchmark]
    public void Forward()
    {
        pre.CopyTo(gates, 0);
        LstmCell.Forward(gates, B, H, cPrev, c, h, H, LstmCellOptions.Default, path: Path);
    }

    [Benchmark]
    public void Backward() => LstmCell.Backward(gates, B, H, cPrev, c, dh, dc, dGates, dcPrev, LstmCellOptions.Default, path: Path);
}

/// <summary>The fused GRU cell (PyTorch's linear_before_reset = 1), forward and backward, at batch 1 and 64.</summary>
[BenchmarkCategory("Kernel")]
public class GruCellBenchmarks
{
    private float[] pre = [], gates = [], hidden = [], bias = [], hPrev = [], h = [], saved = [], dh = [], dGates = [], dHidden = [], dhPrev = [];

    [Params(1, 64)]
    public int B { get; set; }

    [Params(256)]
    public int H { get; set; }

    [ParamsSource(typeof(Paths), nameof(Paths.Available))]
    public SimdPath Path { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(3);
        float[] R(int n, double s) => Enumerable.Range(0, n).Select(_ => (float)((rng.NextDouble() - 0.5) * s)).ToArray();
        pre = R(B * 3 * H, 6);
        gates = (float[])pre.Clone();
        hidden = R(B * 3 * H, 4);
        bias = R(H, 1);
        hPrev = R(B * H, 2);
        h = new float[B * H];
        saved = new float[B * H];
        dh = R(B * H, 1);
        dGates = new float[B * 3 * H];
        dHidden = new float[B * 3 * H];
        dhPrev = new float[B * H];
        GruCell.Forward(gates, hidden, bias, B, H, hPrev, H, h, H, saved, Path);
    }

    [Benchmark]
    public void Forward()
    {
        pre.CopyTo(gates, 0);
        GruCell.Forward(gates, hidden, bias, B, H, hPrev, H, h, H, saved, Path);
    }

    [Benchmark]
    public void Backward() => GruCell.Backward(gates, saved, B, H, hPrev, H, dh, dGates, dHidden, dhPrev, Path);
}
