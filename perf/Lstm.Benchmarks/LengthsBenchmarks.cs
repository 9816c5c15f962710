using BenchmarkDotNet.Attributes;
using Lstm.Core;

namespace Lstm.Benchmarks;

/// <summary>
/// A padded batch with lengths against the same batch run padded (issue 14): the packed pass steps only the live rows,
/// so with lengths spread uniformly over [1, T] it should cost about half of the padded pass (Σ lengths / (T·B) = ~0.5).
/// </summary>
[BenchmarkCategory("Lengths")]
public class LengthsBenchmarks
{
    private const int I = 128, H = 256, T = 100, B = 32;
    private RecurrentNetwork net = null!;
    private float[] x = [];
    private int[] lengths = [];

    [GlobalSetup]
    public void Setup()
    {
        net = RecurrentNetwork.Create(new RecurrentOptions(I, H), seed: 1);
        var rng = new Random(3);
        x = Enumerable.Range(0, T * B * I).Select(_ => (float)((rng.NextDouble() * 2) - 1)).ToArray();
        lengths = Enumerable.Range(0, B).Select(b => 1 + (b * (T - 1) / (B - 1))).ToArray();
    }

    [Benchmark(Baseline = true)]
    public SequenceOutput Padded() => net.Forward(x, T, B);

    [Benchmark]
    public SequenceOutput WithLengths() => net.Forward(x, T, B, lengths);

    [Benchmark]
    public void TrainWithLengths()
    {
        using TrainingTrace trace = net.ForwardTraining(x, T, B, lengths);
        net.Backward(trace, new float[T * B * H], default, default, net.CreateGradients());
    }
}
