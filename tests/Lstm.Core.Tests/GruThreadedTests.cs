using Lstm.Core;

namespace Lstm.Core.Tests;

/// <summary>GRU streams and sequences on several threads: bitwise the same as on one (as ThreadedTests holds for LSTM and RNN).</summary>
public class GruThreadedTests
{
    public static TheoryData<int, int, int, bool> StreamCases()
    {
        var data = new TheoryData<int, int, int, bool>();
        foreach (int threads in new[] { 2, 3 })
        {
            foreach (int h in new[] { 7, 33, 130 })
            {
                data.Add(threads, h, 1, true);
                data.Add(threads, h, 3, true);
                data.Add(threads, h, 2, false); // reset before the product: two phases per layer
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(StreamCases))]
    public void SplitStream_EqualsOneThread_BitForBit(int threads, int hidden, int batch, bool linearBeforeReset)
    {
        foreach (bool? parallel in new bool?[] { true, false, null })
        {
            Helpers.WithTeamMode(parallel, () =>
            {
                var o = new RecurrentOptions(5, hidden, Layers: 2, Cell: CellKind.Gru, LinearBeforeReset: linearBeforeReset);
                RecurrentNetwork net = RecurrentNetwork.Create(o, 11);
                using StreamState one = net.CreateStream(batch), many = net.CreateStream(batch, threads);
                Assert.True(many.Threads > 1);
                float[] x = Helpers.ToFloat(Helpers.Uniform(30 * batch * 5, 3)), y1 = new float[batch * hidden], yn = new float[batch * hidden];
                for (int t = 0; t < 30; t++)
                {
                    net.Step(one, x.AsSpan(t * batch * 5, batch * 5), y1);
                    net.Step(many, x.AsSpan(t * batch * 5, batch * 5), yn);
                    Helpers.AssertBitwise(y1, yn, $"y at step {t}");
                }
                for (int l = 0; l < 2; l++)
                {
                    Helpers.AssertBitwise(one.Hidden(l).ToArray(), many.Hidden(l).ToArray(), $"h of layer {l}");
                }
            });
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void SplitStream_AllocatesNothing(bool linearBeforeReset)
    {
        RecurrentNetwork net = RecurrentNetwork.Create(new RecurrentOptions(32, 64, Layers: 2, Cell: CellKind.Gru, LinearBeforeReset: linearBeforeReset), 1);
        using StreamState s = net.CreateStream(1, threads: 2);
        Assert.Equal(2, s.Threads);
        float[] x = Helpers.ToFloat(Helpers.Uniform(32, 2)), y = new float[64];
        Helpers.WarmUp(() => net.Step(s, x, y));
        long before = Helpers.AllocatedBytes(s);
        for (int i = 0; i < 5_000; i++) net.Step(s, x, y);
        Assert.Equal(0, Helpers.AllocatedBytes(s) - before);
    }

    public static TheoryData<int, int, int, bool, bool> SequenceCases()
    {
        var data = new TheoryData<int, int, int, bool, bool>();
        foreach (int threads in new[] { 2, 3 })
        {
            data.Add(threads, 200, 3, true, true);    // units split, bidirectional
            data.Add(threads, 130, 2, true, false);   // units split
            data.Add(threads, 130, 2, false, false);  // units split, reset before the product: two phases per step
            data.Add(threads, 200, 1, false, true);   // the same, bidirectional
            data.Add(threads, 20, 50, true, true);    // rows split, bidirectional
            data.Add(threads, 20, 49, false, false);  // rows split, reset before the product
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(SequenceCases))]
    public void Forward_OnSeveralThreads_EqualsOneThread_BitForBit(int threads, int hidden, int batch, bool linearBeforeReset, bool bidirectional)
    {
        foreach (bool? parallel in new bool?[] { true, false, null })
        {
            Helpers.WithTeamMode(parallel, () =>
            {
                var o = new RecurrentOptions(6, hidden, Layers: 2, Bidirectional: bidirectional, Cell: CellKind.Gru, LinearBeforeReset: linearBeforeReset);
                RecurrentNetwork net = RecurrentNetwork.Create(o, 5);
                const int T = 7;
                float[] x = Helpers.ToFloat(Helpers.Uniform(T * batch * 6, 8));
                float[] h0 = Helpers.ToFloat(Helpers.Uniform(o.Directions * 2 * batch * hidden, 9));
                SequenceOutput one = net.Forward(x, T, batch, h0);
                net.Threads = threads;
                for (int repeat = 0; repeat < 2; repeat++)
                {
                    SequenceOutput many = net.Forward(x, T, batch, h0);
                    Helpers.AssertBitwise(one.Output, many.Output, "output");
                    Helpers.AssertBitwise(one.Hn, many.Hn, "hn");
                }
                net.Dispose();
            });
        }
    }

    [Theory]
    [InlineData(2, 32, true, false)]
    [InlineData(2, 37, true, true)]
    [InlineData(3, 50, false, false)]
    [InlineData(2, 40, false, true)]
    public void ForwardTrainingAndBackward_OnSeveralThreads_EqualOneThread_BitForBit(int threads, int batch, bool linearBeforeReset, bool bidirectional)
    {
        foreach (bool? parallel in new bool?[] { true, false, null })
        {
            Helpers.WithTeamMode(parallel, () =>
            {
                const int T = 6, I = 5, H = 70;
                var o = new RecurrentOptions(I, H, Layers: 2, Bidirectional: bidirectional, Cell: CellKind.Gru, LinearBeforeReset: linearBeforeReset);
                RecurrentNetwork net = RecurrentNetwork.Create(o, 3);
                float[] x = Helpers.ToFloat(Helpers.Uniform(T * batch * I, 4)), dy = Helpers.ToFloat(Helpers.Uniform(T * batch * o.OutputSize, 5));
                float[] dhn = Helpers.ToFloat(Helpers.Uniform(o.Directions * 2 * batch * H, 6));
                (SequenceOutput, InputGradients, ParameterSet) Train()
                {
                    using TrainingTrace trace = net.ForwardTraining(x, T, batch, default, default, 0.2f, new Training.SeededRandom(9));
                    ParameterSet grads = net.CreateGradients();
                    return (trace.Result, net.Backward(trace, dy, dhn, default, grads), grads);
                }
                var (y1, d1, g1) = Train();
                net.Threads = threads;
                var (yn, dn, gn) = Train();
                net.Dispose();
                Helpers.AssertBitwise(y1.Output, yn.Output, "y");
                Helpers.AssertBitwise(d1.DX, dn.DX, "dx");
                Helpers.AssertBitwise(d1.DH0, dn.DH0, "dh0");
                foreach (ParameterInfo p in net.ParameterInfos)
                {
                    Helpers.AssertBitwise(g1[p.Name], gn[p.Name], p.Name);
                }
            });
        }
    }
}
