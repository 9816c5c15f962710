using BenchmarkDotNet.Attributes;
using Lstm.Core;
using Lstm.Simd;

namespace Lstm.Benchmarks;

/// <summary>One streaming step at batch 1, I = H, one layer: the latency users embed. Allocation is measured too.</summary>
[BenchmarkCategory("Step")]
[MemoryDiagnoser]
public class StepBenchmarks
{
    private RecurrentNetwork net = null!;
    private StreamState state = null!;
    private float[] x = [], y = [];

    [Params(128, 256, 512)]
    public int H { get; set; }

    [ParamsSource(typeof(Paths), nameof(Paths.Available))]
    public SimdPath Path { get; set; }

    /// <summary>Threads sharing each step (hidden units split; bitwise the same result).</summary>
    [Params(1, 2)]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        net = RecurrentNetwork.Create(new RecurrentOptions(H, H), seed: 1, Path);
        state = net.CreateStream(1, Threads);
        x = Enumerable.Range(0, H).Select(i => MathF.Sin(i)).ToArray();
        y = new float[H];
    }

    [Benchmark]
    public void Step() => net.Step(state, x, y);

    [GlobalCleanup]
    public void Cleanup() => state.Dispose();
}

/// <summary>A whole sequence forward, T = 100, I = H, one layer: per-step cost at batch 1 and throughput at batch 64.</summary>
[BenchmarkCategory("Sequence")]
[MemoryDiagnoser]
public class SequenceBenchmarks
{
    private RecurrentNetwork net = null!;
    private float[] x = [], y = [], hn = [], cn = [];

    public const int T = 100;

    [Params(1, 64)]
    public int B { get; set; }

    [Params(256, 512)]
    public int H { get; set; }

    [Params(1, 2)]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        net = RecurrentNetwork.Create(new RecurrentOptions(H, H), seed: 1);
        net.Threads = Threads;
        x = Enumerable.Range(0, T * B * H).Select(i => MathF.Sin(i)).ToArray();
        y = new float[T * B * H];
        hn = new float[B * H];
        cn = new float[B * H];
    }

    [Benchmark]
    public float[] Forward() => net.Forward(x, T, B).Output;

    /// <summary>Into reused buffers, as a service runs it: no large-object churn, so this is the arithmetic's cost.</summary>
    [Benchmark]
    public float[] ForwardInto()
    {
        net.Forward(x, T, B, y, hn, cn);
        return y;
    }

    [GlobalCleanup]
    public void Cleanup() => net.Dispose();
}

/// <summary>
/// One training step, forward and backward through time, T = 100, I = H = 256, one layer: through pooled traces
/// (<see cref="TrainingStep"/>) and through a trace that owns its buffers (<see cref="TrainingStepInto"/>: 0 bytes per
/// step). On 2 threads B = 32 splits the rows, B = 1 the backward pass's hidden units.
/// </summary>
[BenchmarkCategory("Train")]
[MemoryDiagnoser]
public class TrainBenchmarks
{
    private RecurrentNetwork net = null!;
    private ParameterSet grads = null!;
    private TrainingTrace trace = null!;
    private float[] x = [];

    public const int T = 100, H = 256;

    [Params(1, 32)]
    public int B { get; set; }

    [Params(1, 2)]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        net = RecurrentNetwork.Create(new RecurrentOptions(H, H), seed: 1);
        net.Threads = Threads;
        grads = net.CreateGradients();
        trace = net.CreateTrace(T, B);
        x = Enumerable.Range(0, T * B * H).Select(i => MathF.Sin(i)).ToArray();
    }

    [Benchmark]
    public InputGradients TrainingStep()
    {
        grads.Clear();
        using TrainingTrace tr = net.ForwardTraining(x, T, B);
        return net.Backward(tr, tr.Result.Output, default, default, grads);
    }

    [Benchmark]
    public ParameterSet TrainingStepInto()
    {
        grads.Clear();
        net.ForwardTrainingInto(trace, x);
        net.BackwardInto(trace, trace.Result.Output, default, default, grads, default, default, default);
        return grads;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        trace.Dispose();
        net.Dispose();
    }
}
