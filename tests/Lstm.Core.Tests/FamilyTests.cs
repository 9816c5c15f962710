using Lstm.Experiments;
using Lstm.Core;
using Lstm.Core.Reference;
using Lstm.Simd;

namespace Lstm.Core.Tests;

/// <summary>ReLU RNNs and bias=False (issue 14): threads, streams and the stream-state export, beside the fixtures.</summary>
public class FamilyTests
{
    /// <summary>Each new option on the shapes that reach every code path: stacked, bidirectional (sequences), batch rows.</summary>
    internal static readonly Dictionary<string, RecurrentOptions> Variants = new()
    {
        ["rnn-relu"] = new(6, 70, Layers: 2, Cell: CellKind.Rnn, Nonlinearity: RnnNonlinearity.Relu),
        ["rnn-relu-bidirectional"] = new(6, 70, Layers: 2, Bidirectional: true, Cell: CellKind.Rnn, Nonlinearity: RnnNonlinearity.Relu),
        ["lstm-no-bias"] = new(6, 70, Layers: 2, Bias: false),
        ["lstm-no-bias-bidirectional-peepholes"] = new(6, 70, Layers: 2, Bidirectional: true, Peepholes: true, Bias: false),
        ["rnn-relu-no-bias"] = new(6, 70, Layers: 2, Cell: CellKind.Rnn, Nonlinearity: RnnNonlinearity.Relu, Bias: false),
    };

    public static TheoryData<string> VariantNames() => new(Variants.Keys);

    public static TheoryData<string, int> VariantsByThreads()
    {
        var d = new TheoryData<string, int>();
        foreach (string v in Variants.Keys)
        {
            foreach (int threads in new[] { 2, 3 }) d.Add(v, threads);
        }
        return d;
    }

    [Theory]
    [MemberData(nameof(VariantsByThreads))]
    public void SequenceAndTraining_OnSeveralThreads_EqualOneThread_BitForBit(string variant, int threads)
    {
        foreach (bool parallel in new[] { true, false })
        {
            Helpers.WithTeamMode(parallel, () => ThreadsCase(Variants[variant], threads));
        }
    }

    private static void ThreadsCase(RecurrentOptions o, int threads)
    {
        const int T = 5, B = 40; // B ≥ 16 rows per thread: the row split for training; H = 70 ≥ 64: the unit split at B = 1
        bool lstm = o.Cell == CellKind.Lstm;
        using RecurrentNetwork net = RecurrentNetwork.Create(o, 3);
        int state = o.Directions * o.Layers * B * o.HiddenSize;
        float[] x = Helpers.ToFloat(Helpers.Uniform(T * B * o.InputSize, 4)), dy = Helpers.ToFloat(Helpers.Uniform(T * B * o.OutputSize, 5));
        float[] dhn = Helpers.ToFloat(Helpers.Uniform(state, 6)), dcn = lstm ? Helpers.ToFloat(Helpers.Uniform(state, 7)) : [];

        (SequenceOutput, SequenceOutput, InputGradients, ParameterSet) Run()
        {
            SequenceOutput single = net.Forward(x.AsSpan(0, T * o.InputSize), T, 1);
            using TrainingTrace trace = net.ForwardTraining(x, T, B);
            ParameterSet grads = net.CreateGradients();
            return (single, trace.Result, net.Backward(trace, dy, dhn, dcn, grads), grads);
        }

        var (s1, y1, d1, g1) = Run();
        net.Threads = threads;
        var (sn, yn, dn, gn) = Run();
        Helpers.AssertBitwise(s1.Output, sn.Output, "y at B = 1");
        Helpers.AssertBitwise(y1.Output, yn.Output, "y");
        Helpers.AssertBitwise(y1.Hn, yn.Hn, "hn");
        Helpers.AssertBitwise(y1.Cn, yn.Cn, "cn");
        Helpers.AssertBitwise(d1.DX, dn.DX, "dx");
        Helpers.AssertBitwise(d1.DH0, dn.DH0, "dh0");
        Helpers.AssertBitwise(d1.DC0, dn.DC0, "dc0");
        foreach (ParameterInfo p in net.ParameterInfos)
        {
            Helpers.AssertBitwise(g1[p.Name], gn[p.Name], p.Name);
        }
    }

    [Theory]
    [MemberData(nameof(VariantsByThreads))]
    public void Streams_OnOneOrSeveralThreads_EqualTheSequence_BitForBit(string variant, int threads)
    {
        RecurrentOptions o = Variants[variant];
        if (o.Bidirectional)
        {
            return; // a bidirectional network does not stream
        }
        const int T = 6, B = 2;
        using RecurrentNetwork net = RecurrentNetwork.Create(o, 8);
        float[] x = Helpers.ToFloat(Helpers.Uniform(T * B * o.InputSize, 9));
        SequenceOutput whole = net.Forward(x, T, B);
        foreach (int t in new[] { 1, threads })
        {
            using StreamState s = net.CreateStream(B, t);
            float[] y = new float[B * o.HiddenSize];
            for (int step = 0; step < T; step++)
            {
                net.Step(s, x.AsSpan(step * B * o.InputSize, B * o.InputSize), y);
                Helpers.AssertBitwise(whole.Output.AsSpan(step * B * o.HiddenSize, B * o.HiddenSize).ToArray(), y, $"y at step {step}, {t} threads");
            }
        }
    }

    [Theory]
    [MemberData(nameof(VariantNames))]
    public void ReferenceBackward_MatchesCentralDifferences(string variant)
    {
        RecurrentOptions o = Variants[variant] with { InputSize = 3, HiddenSize = 4 };
        const int T = 4, B = 2;
        var net = ReferenceNetwork.From(RecurrentNetwork.Create(o, seed: 1));
        int state = o.Directions * o.Layers * B * o.HiddenSize;
        bool lstm = o.Cell == CellKind.Lstm;
        var worst = GradientChecker.Check(net, Helpers.Uniform(T * B * o.InputSize, 2), T, B, Helpers.Uniform(state, 3, 0.5),
            lstm ? Helpers.Uniform(state, 4, 0.5) : null, Helpers.Uniform(T * B * o.OutputSize, 5), Helpers.Uniform(state, 6), lstm ? Helpers.Uniform(state, 7) : null);
        Assert.NotEmpty(worst);
        foreach (var (name, err) in worst)
        {
            Assert.True(err <= 1e-6, $"{variant}: {name} worst relative error {err:E2}"); // ReferenceGradientTests' bound
        }
    }

    [Theory]
    [MemberData(nameof(Helpers.Paths), MemberType = typeof(Helpers))]
    public void ReluRnn_FastPath_MatchesTheReference_AndDiffersFromTanh(SimdPath path)
    {
        RecurrentOptions o = Variants["rnn-relu-bidirectional"] with { InputSize = 7, HiddenSize = 19 };
        const int T = 30, B = 3;
        RecurrentNetwork fast = RecurrentNetwork.Create(o, 11, path);
        ReferenceNetwork reference = ReferenceNetwork.From(fast);
        float[] x = Helpers.ToFloat(Helpers.Uniform(T * B * 7, 1));
        float[] dy = Helpers.ToFloat(Helpers.Uniform(T * B * o.OutputSize, 4));
        using TrainingTrace trace = fast.ForwardTraining(x, T, B);
        ParameterSet grads = fast.CreateGradients();
        InputGradients d = fast.Backward(trace, dy, default, default, grads);
        ReferenceTrace rt = reference.Forward(Helpers.ToDouble(x), T, B);
        ReferenceGradients rg = reference.Backward(rt, Helpers.ToDouble(dy));
        // FastVersusReferenceTests' bounds and reasons (ReLU's gain is ≤ 1 where it passes, as tanh's).
        Assert.True(Helpers.WorstError(trace.Result.Output, rt.Output) <= 2e-5, "y");
        Assert.True(Helpers.WorstError(d.DX, rg.DX) <= 1e-4, "dx");
        foreach (ParameterInfo info in fast.ParameterInfos)
        {
            Assert.True(Helpers.WorstError(grads[info.Name], rg.Parameters[info.Name]) <= 1e-4, info.Name);
        }
        Assert.Contains(trace.Result.Output, v => v == 0); // ReLU's dead units: tanh never gives exactly 0 here
        RecurrentNetwork tanh = RecurrentNetwork.FromParameters(o with { Nonlinearity = RnnNonlinearity.Tanh },
            fast.ParameterInfos.ToDictionary(i => i.Name, i => fast.GetParameter(i.Name)), path);
        Assert.True(Helpers.WorstError(tanh.Forward(x, T, B).Output, rt.Output) > 1e-2, "tanh and ReLU differ");
    }

    [Fact]
    public void Verify_ChecksTheReluCellOnEveryPath()
    {
        var lines = KernelVerifier.PathsAgainstScalar().Where(l => l.Check.StartsWith("ReLU RNN cell", StringComparison.Ordinal)).ToList();
        Assert.Equal(SimdPaths.Available.Count - 1, lines.Count);
        Assert.All(lines, l => Assert.True(l.Passed && l.Worst == 0, l.Check));
    }

    [Fact]
    public void Options_RefuseNonlinearityOnOtherCells_AndUnknownValues()
    {
        var e = Assert.Throws<ArgumentException>(() => new RecurrentOptions(3, 4, Nonlinearity: RnnNonlinearity.Relu).Validate());
        Assert.Equal("Nonlinearity", e.ParamName);
        e = Assert.Throws<ArgumentException>(() => new RecurrentOptions(3, 4, Cell: CellKind.Rnn, Nonlinearity: (RnnNonlinearity)5).Validate());
        Assert.Equal("Nonlinearity", e.ParamName);
    }

    [Fact]
    public void StreamStateExport_CarriesTheNonlinearityAndBias_AndOldExportsStillImport()
    {
        RecurrentOptions tanh = new(3, 5, Cell: CellKind.Rnn), relu = tanh with { Nonlinearity = RnnNonlinearity.Relu }, noBias = tanh with { Bias = false };
        using RecurrentNetwork a = RecurrentNetwork.Create(tanh, 1), b = RecurrentNetwork.Create(relu, 1), c = RecurrentNetwork.Create(noBias, 1);
        using StreamState sa = a.CreateStream(), sb = b.CreateStream(), sc = c.CreateStream();
        float[] y = new float[5];
        b.Step(sb, [1f, -2f, 0.5f], y);
        byte[] exported = sb.Export();
        var e = Assert.Throws<InvalidDataException>(() => sa.Import(exported));
        Assert.Contains("ReLU", e.Message);
        e = Assert.Throws<InvalidDataException>(() => sc.Import(a.CreateStream().Export()));
        Assert.Contains("no bias", e.Message);
        using StreamState again = b.CreateStream();
        again.Import(exported);
        Helpers.AssertBitwise(sb.Hidden(0).ToArray(), again.Hidden(0).ToArray(), "h");
        // A tanh RNN with bias writes the flags byte as 0, as every export before the flags did: those still import.
        Assert.Equal(0, a.CreateStream().Export()[15]);
    }
}
