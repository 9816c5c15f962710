using BenchmarkDotNet.Attributes;
using Lstm.Core;
using Lstm.Simd;

namespace Lstm.Benchmarks;

/// <summary>
/// Issue 11's cases per weight format on the default path: a streaming step at B = 1 (H = 256, 512) and a sequence at
/// B = 1, T = 100, H = 256, into reused buffers. A separate category, so the float32 suites keep their names.
/// </summary>
[BenchmarkCategory("Formats")]
[MemoryDiagnoser]
public class FormatBenchmarks
{
    private RecurrentNetwork net = null!;
    private StreamState state = null!;
    private float[] x = [], y = [], seq = [], seqY = [], hn = [], cn = [];

    public const int T = 100;

    [Params(256, 512)]
    public int H { get; set; }

    [Params(WeightFormat.Float32, WeightFormat.Float16, WeightFormat.BFloat16, WeightFormat.Int8)]
    public WeightFormat Format { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        net = RecurrentNetwork.Create(new RecurrentOptions(H, H), seed: 1).WithWeightFormat(Format);
        state = net.CreateStream(1);
        x = Enumerable.Range(0, H).Select(i => MathF.Sin(i)).ToArray();
        y = new float[H];
        seq = Enumerable.Range(0, T * H).Select(i => MathF.Sin(i)).ToArray();
        seqY = new float[T * H];
        hn = new float[H];
        cn = new float[H];
    }

    [Benchmark]
    public void Step() => net.Step(state, x, y);

    [Benchmark]
    public float[] SequenceB1()
    {
        net.Forward(seq, T, 1, seqY, hn, cn);
        return seqY;
    }

    [GlobalCleanup]
    public void Cleanup() => state.Dispose();
}
