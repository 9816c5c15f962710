using Lstm.Core;
using Lstm.Core.Training;

namespace Lstm.Core.Tests;

/// <summary><see cref="RecurrentNetwork.CreateTrace"/>: a reused trace gives the bits of a pooled one, pass after pass.</summary>
public class TrainingTraceTests
{
    public static TheoryData<string, int, int> Cases() => new()
    {
        { "lstm", 5, 1 },
        { "batch-first bidirectional", 3, 1 },
        { "rnn", 4, 1 },
        { "peepholes", 2, 1 },
        { "dropout", 3, 1 },
        { "lstm", 40, 2 },               // rows split
        { "dropout", 1, 2 },             // units split (H = 130)
        { "rnn", 1, 2 },
        { "batch-first bidirectional", 33, 2 },
    };

    private static RecurrentOptions Options(string kind) => kind switch
    {
        "batch-first bidirectional" => new RecurrentOptions(6, 130, Layers: 2, Bidirectional: true, BatchFirst: true),
        "rnn" => new RecurrentOptions(6, 130, Layers: 2, Cell: CellKind.Rnn),
        "peepholes" => new RecurrentOptions(6, 130, Layers: 2, Peepholes: true),
        _ => new RecurrentOptions(6, 130, Layers: 2),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void AReusedTrace_GivesThePooledTracesBits_EveryPass(string kind, int batch, int threads) =>
        Helpers.WithTeamMode(parallel: null, () => ReusedTraceCase(kind, batch, threads)); // split even if another test reported contention

    private static void ReusedTraceCase(string kind, int batch, int threads)
    {
        const int T = 5;
        RecurrentOptions o = Options(kind);
        bool lstm = o.Cell == CellKind.Lstm;
        float dropout = kind == "dropout" ? 0.3f : 0f;
        using RecurrentNetwork net = RecurrentNetwork.Create(o, 4);
        net.Threads = threads;
        int state = o.Directions * o.Layers * batch * o.HiddenSize;
        using TrainingTrace reused = net.CreateTrace(T, batch);
        for (int pass = 0; pass < 2; pass++)
        {
            float[] x = Helpers.ToFloat(Helpers.Uniform(T * batch * o.InputSize, 10 + pass)), dy = Helpers.ToFloat(Helpers.Uniform(T * batch * o.OutputSize, 20 + pass));
            float[] h0 = Helpers.ToFloat(Helpers.Uniform(state, 30 + pass)), c0 = lstm ? Helpers.ToFloat(Helpers.Uniform(state, 40 + pass)) : [];
            float[] dhn = Helpers.ToFloat(Helpers.Uniform(state, 50 + pass)), dcn = lstm ? Helpers.ToFloat(Helpers.Uniform(state, 60 + pass)) : [];

            ParameterSet expectedGrads = net.CreateGradients();
            using TrainingTrace pooled = net.ForwardTraining(x, T, batch, h0, c0, dropout, dropout > 0 ? new SeededRandom(7 + pass) : null);
            InputGradients expected = net.Backward(pooled, dy, dhn, dcn, expectedGrads);

            ParameterSet grads = net.CreateGradients();
            float[] dx = new float[x.Length], dh0 = new float[state], dc0 = new float[c0.Length];
            long unitRuns = Lstm.Core.Threading.TrainingForwardUnits.Runs;
            net.ForwardTrainingInto(reused, x, h0, c0, dropout, dropout > 0 ? new SeededRandom(7 + pass) : null);
            if (threads > 1 && batch < 16 * threads && o.Cell == CellKind.Lstm && !o.Peepholes)
            {
                Assert.True(Lstm.Core.Threading.TrainingForwardUnits.Runs > unitRuns, "the forward pass was split by units");
            }
            net.BackwardInto(reused, dy, dhn, dcn, grads, dx, dh0, dc0);

            Helpers.AssertBitwise(pooled.Result.Output, reused.Result.Output, $"y, pass {pass}");
            Helpers.AssertBitwise(pooled.Result.Hn, reused.Result.Hn, $"hn, pass {pass}");
            Helpers.AssertBitwise(pooled.Result.Cn, reused.Result.Cn, $"cn, pass {pass}");
            Helpers.AssertBitwise(expected.DX, dx, $"dx, pass {pass}");
            Helpers.AssertBitwise(expected.DH0, dh0, $"dh0, pass {pass}");
            Helpers.AssertBitwise(expected.DC0, dc0, $"dc0, pass {pass}");
            foreach (ParameterInfo p in net.ParameterInfos)
            {
                Helpers.AssertBitwise(expectedGrads[p.Name], grads[p.Name], $"{p.Name}, pass {pass}");
            }
        }
    }

    [Fact]
    public void BackwardInto_WithoutDx_GivesTheSameParameterGradients()
    {
        using RecurrentNetwork net = RecurrentNetwork.Create(new RecurrentOptions(4, 9, Layers: 2), 2);
        using TrainingTrace trace = net.CreateTrace(6, 2);
        float[] x = Helpers.ToFloat(Helpers.Uniform(6 * 2 * 4, 1)), dy = Helpers.ToFloat(Helpers.Uniform(6 * 2 * 9, 2));
        net.ForwardTrainingInto(trace, x);
        ParameterSet all = net.CreateGradients(), some = net.CreateGradients();
        float[] dx = new float[x.Length];
        net.BackwardInto(trace, dy, default, default, all, dx, default, default);
        net.BackwardInto(trace, dy, default, default, some, default, default, default);
        Assert.Contains(dx, v => v != 0);
        foreach (ParameterInfo p in net.ParameterInfos)
        {
            Helpers.AssertBitwise(all[p.Name], some[p.Name], p.Name);
        }
    }

    [Fact]
    public void WrongTracesAndShapes_AreRefused_NamingTheArgument()
    {
        using RecurrentNetwork net = RecurrentNetwork.Create(new RecurrentOptions(4, 9), 2), other = RecurrentNetwork.Create(new RecurrentOptions(4, 9), 2);
        float[] x = new float[3 * 2 * 4], dy = new float[3 * 2 * 9];
        using TrainingTrace pooled = net.ForwardTraining(x, 3, 2);
        var e = Assert.Throws<ArgumentException>(() => net.ForwardTrainingInto(pooled, x));
        Assert.Equal("trace", e.ParamName);
        TrainingTrace foreign = other.CreateTrace(3, 2);
        e = Assert.Throws<ArgumentException>(() => net.ForwardTrainingInto(foreign, x));
        Assert.Equal("trace", e.ParamName);
        other.ForwardTrainingInto(foreign, x);
        e = Assert.Throws<ArgumentException>(() => net.BackwardInto(foreign, dy, default, default, net.CreateGradients(), default, default, default));
        Assert.Equal("trace", e.ParamName);

        TrainingTrace trace = net.CreateTrace(3, 2);
        e = Assert.Throws<ArgumentException>(() => net.ForwardTrainingInto(trace, new float[x.Length + 1]));
        Assert.Equal("x", e.ParamName);
        Assert.Contains("[3, 2, 4]", e.Message);
        net.ForwardTrainingInto(trace, x);
        e = Assert.Throws<ArgumentException>(() => net.BackwardInto(trace, dy, default, default, net.CreateGradients(), new float[5], default, default));
        Assert.Equal("dx", e.ParamName);
        e = Assert.Throws<ArgumentException>(() => net.BackwardInto(trace, dy, default, default, net.CreateGradients(), default, new float[3], default));
        Assert.Equal("dh0", e.ParamName);
        trace.Dispose();
        Assert.Throws<ObjectDisposedException>(() => net.ForwardTrainingInto(trace, x));
        Assert.Throws<ObjectDisposedException>(() => net.BackwardInto(trace, dy, default, default, net.CreateGradients(), default, default, default));
        Assert.Throws<ArgumentOutOfRangeException>(() => net.CreateTrace(-1, 2));
        Assert.Throws<NotSupportedException>(() => net.WithWeightFormat(Lstm.Simd.WeightFormat.Int8).CreateTrace(3, 2));
    }

    [Fact]
    public void UpdateParameters_RefreshesTheThreadSlicesInPlace()
    {
        var o = new RecurrentOptions(5, 130, Layers: 2);
        using RecurrentNetwork net = RecurrentNetwork.Create(o, 1);
        net.Threads = 2;
        using StreamState stream = net.CreateStream(1, threads: 2);
        float[] x = Helpers.ToFloat(Helpers.Uniform(4 * 5, 2)), y = new float[130];
        net.Step(stream, x.AsSpan(0, 5), y);   // makes the unit slices of both layers
        _ = net.Forward(x, 4, 1);
        using (TrainingTrace trace = net.CreateTrace(4, 1)) // makes W_hh's column slices
        {
            net.ForwardTrainingInto(trace, x);
            net.BackwardInto(trace, new float[4 * 130], default, default, net.CreateGradients(), default, default, default);
        }
        net.UpdateParameters(p =>
        {
            foreach (ParameterInfo info in p.Infos)
            {
                float[] v = p[info.Name];
                for (int i = 0; i < v.Length; i++) v[i] = (v[i] * 1.5f) + 0.01f;
            }
        });

        using RecurrentNetwork fresh = RecurrentNetwork.FromParameters(o, net.ParameterInfos.ToDictionary(i => i.Name, i => net.GetParameter(i.Name)));
        Helpers.AssertBitwise(fresh.Forward(x, 4, 1).Output, net.Forward(x, 4, 1).Output, "Forward split by units");
        stream.Reset();
        using StreamState alone = fresh.CreateStream(1);
        float[] expected = new float[130];
        for (int t = 0; t < 4; t++)
        {
            fresh.Step(alone, x.AsSpan(t * 5, 5), expected);
            net.Step(stream, x.AsSpan(t * 5, 5), y);
            Helpers.AssertBitwise(expected, y, $"split stream, step {t}");
        }
        ParameterSet g1 = fresh.CreateGradients(), g2 = net.CreateGradients();
        float[] dy = Helpers.ToFloat(Helpers.Uniform(4 * 130, 3));
        using (TrainingTrace a = fresh.ForwardTraining(x, 4, 1))
        {
            fresh.Backward(a, dy, default, default, g1);
        }
        using (TrainingTrace b = net.ForwardTraining(x, 4, 1))
        {
            net.Backward(b, dy, default, default, g2);
        }
        Helpers.AssertBitwise(g1["weight_hh_l0"], g2["weight_hh_l0"], "dW_hh from the split backward");
        Helpers.AssertBitwise(g1["weight_ih_l1"], g2["weight_ih_l1"], "dW_ih of layer 1 (its dh came through the column slices)");
    }
}
