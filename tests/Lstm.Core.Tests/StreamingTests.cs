using Lstm.Core;
using Lstm.Simd;

namespace Lstm.Core.Tests;

public class StreamingTests
{
    public static TheoryData<SimdPath, bool> PathsAndCells()
    {
        var d = new TheoryData<SimdPath, bool>();
        foreach (SimdPath p in SimdPaths.Available) { d.Add(p, true); d.Add(p, false); }
        return d;
    }

    [Theory]
    [MemberData(nameof(PathsAndCells))]
    public void SingleSteps_EqualTheSequenceForward_BitForBit(SimdPath path, bool lstm)
    {
        // Tolerance 0: a step runs the same GEMM chains (bias, then x, then h) and the same cell as the sequence pass.
        var o = new RecurrentOptions(7, 13, Layers: 3, Cell: lstm ? CellKind.Lstm : CellKind.Rnn, Peepholes: lstm);
        const int T = 40, B = 2;
        RecurrentNetwork net = RecurrentNetwork.Create(o, 4, path);
        float[] x = Helpers.ToFloat(Helpers.Uniform(T * B * 7, 9));
        SequenceOutput seq = net.Forward(x, T, B);

        StreamState s = net.CreateStream(B);
        float[] y = new float[B * 13];
        for (int t = 0; t < T; t++)
        {
            net.Step(s, x.AsSpan(t * B * 7, B * 7), y);
            Helpers.AssertBitwise(seq.Output.AsSpan(t * B * 13, B * 13).ToArray(), y, $"step {t}");
        }
        for (int l = 0; l < 3; l++)
        {
            Helpers.AssertBitwise(seq.Hn.AsSpan(l * B * 13, B * 13).ToArray(), s.Hidden(l).ToArray(), $"h of layer {l}");
            if (lstm) Helpers.AssertBitwise(seq.Cn.AsSpan(l * B * 13, B * 13).ToArray(), s.Cell(l).ToArray(), $"c of layer {l}");
        }
    }

    [Fact]
    public void SteadyStateSteps_AllocateNothing()
    {
        RecurrentNetwork net = RecurrentNetwork.Create(new RecurrentOptions(64, 128, Layers: 2), 1);
        StreamState s = net.CreateStream();
        float[] x = Helpers.ToFloat(Helpers.Uniform(64, 2)), y = new float[128];
        Helpers.WarmUp(() => net.Step(s, x, y));
        long before = Helpers.AllocatedBytes(s);
        for (int i = 0; i < 10_000; i++) net.Step(s, x, y);
        Assert.Equal(0, Helpers.AllocatedBytes(s) - before);
    }

    [Fact]
    public void OneNetwork_SharedByEightThreads_GivesTheSameAsRunningThemInTurn()
    {
        RecurrentNetwork net = RecurrentNetwork.Create(new RecurrentOptions(5, 33, Layers: 2), 8);
        const int Streams = 8, T = 300;
        float[][] inputs = Enumerable.Range(0, Streams).Select(i => Helpers.ToFloat(Helpers.Uniform(T * 5, 100 + i))).ToArray();
        float[][] Run(int i)
        {
            StreamState s = net.CreateStream();
            return Enumerable.Range(0, T).Select(t => { float[] y = new float[33]; net.Step(s, inputs[i].AsSpan(t * 5, 5), y); return y; }).ToArray();
        }
        float[][][] sequential = Enumerable.Range(0, Streams).Select(Run).ToArray();
        var parallel = new float[Streams][][];
        Parallel.For(0, Streams, new ParallelOptions { MaxDegreeOfParallelism = Streams }, i => parallel[i] = Run(i));
        for (int i = 0; i < Streams; i++)
            for (int t = 0; t < T; t++)
                Helpers.AssertBitwise(sequential[i][t], parallel[i][t], $"stream {i} step {t}");
    }

    [Fact]
    public void Bidirectional_CannotStream_AndBadShapesAreNamed()
    {
        Assert.Throws<InvalidOperationException>(() => RecurrentNetwork.Create(new RecurrentOptions(2, 3, Bidirectional: true), 1).CreateStream());
        RecurrentNetwork net = RecurrentNetwork.Create(new RecurrentOptions(2, 3), 1);
        StreamState s = net.CreateStream(2);
        var e = Assert.Throws<ArgumentException>(() => net.Step(s, new float[3], new float[6]));
        Assert.Equal("x", e.ParamName);
        Assert.Contains("[2, 2]", e.Message);
        e = Assert.Throws<ArgumentException>(() => net.Step(s, new float[4], new float[5]));
        Assert.Equal("y", e.ParamName);
        Assert.Contains("[2, 3]", e.Message);
    }
}
