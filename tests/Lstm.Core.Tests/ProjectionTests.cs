using Lstm.Core;
using Lstm.Core.Interop;
using Lstm.Core.Reference;
using Lstm.Simd;

namespace Lstm.Core.Tests;

/// <summary>LSTM with projections (issue 14, item 2; PyTorch's proj_size): forward, backward, import; the PyTorch fixtures are in FamilyFixtureTests.</summary>
public class ProjectionTests
{
    private static readonly Dictionary<string, RecurrentOptions> Variants = new()
    {
        ["projection"] = new(3, 5, ProjectionSize: 2),
        ["projection-stacked-bidirectional-no-bias"] = new(3, 4, Layers: 2, Bidirectional: true, Bias: false, ProjectionSize: 3),
        ["projection-batch-first-no-forget-gate"] = new(3, 4, BatchFirst: true, ForgetGate: false, ProjectionSize: 1),
    };

    public static TheoryData<string> VariantNames() => new(Variants.Keys);

    public static TheoryData<string, SimdPath> VariantsByPath()
    {
        var d = new TheoryData<string, SimdPath>();
        foreach (string v in Variants.Keys)
        {
            foreach (SimdPath p in SimdPaths.Available) d.Add(v, p);
        }
        return d;
    }

    [Theory]
    [MemberData(nameof(VariantNames))]
    public void ReferenceBackward_MatchesCentralDifferences(string variant)
    {
        RecurrentOptions o = Variants[variant];
        const int T = 4, B = 2;
        var net = ReferenceNetwork.From(RecurrentNetwork.Create(o, seed: 1));
        int states = o.Directions * o.Layers * B;
        var worst = GradientChecker.Check(net, Helpers.Uniform(T * B * o.InputSize, 2), T, B, Helpers.Uniform(states * o.HiddenStateSize, 3, 0.5),
            Helpers.Uniform(states * o.HiddenSize, 4, 0.5), Helpers.Uniform(T * B * o.OutputSize, 5), Helpers.Uniform(states * o.HiddenStateSize, 6),
            Helpers.Uniform(states * o.HiddenSize, 7));
        Assert.Contains(worst.Keys, k => k.StartsWith("weight_hr_l0", StringComparison.Ordinal));
        foreach (var (name, err) in worst)
        {
            Assert.True(err <= 1e-6, $"{variant}: {name} worst relative error {err:E2}"); // ReferenceGradientTests' bound
        }
    }

    [Theory]
    [MemberData(nameof(VariantsByPath))]
    public void FastPath_MatchesTheReference_OutputsAndEveryGradient(string variant, SimdPath path)
    {
        RecurrentOptions o = Variants[variant] with { InputSize = 7, HiddenSize = 19, ProjectionSize = 5 };
        const int T = 23, B = 3;
        int states = o.Directions * o.Layers * B;
        RecurrentNetwork fast = RecurrentNetwork.Create(o, 11, path);
        ReferenceNetwork reference = ReferenceNetwork.From(fast);
        float[] x = Helpers.ToFloat(Helpers.Uniform(T * B * 7, 1));
        float[] h0 = Helpers.ToFloat(Helpers.Uniform(states * 5, 2, 0.5)), c0 = Helpers.ToFloat(Helpers.Uniform(states * 19, 3, 0.5));
        float[] dy = Helpers.ToFloat(Helpers.Uniform(T * B * o.OutputSize, 4));
        float[] dhn = Helpers.ToFloat(Helpers.Uniform(states * 5, 5)), dcn = Helpers.ToFloat(Helpers.Uniform(states * 19, 6));
        using TrainingTrace trace = fast.ForwardTraining(x, T, B, h0, c0);
        ParameterSet grads = fast.CreateGradients();
        InputGradients d = fast.Backward(trace, dy, dhn, dcn, grads);
        ReferenceTrace rt = reference.Forward(Helpers.ToDouble(x), T, B, Helpers.ToDouble(h0), Helpers.ToDouble(c0));
        ReferenceGradients rg = reference.Backward(rt, Helpers.ToDouble(dy), Helpers.ToDouble(dhn), Helpers.ToDouble(dcn));
        // FastVersusReferenceTests' bounds and reasons; the projection adds one dot product of H terms per output.
        Assert.True(Helpers.WorstError(trace.Result.Output, rt.Output) <= 2e-5, "y");
        Assert.True(Helpers.WorstError(trace.Result.Hn, rt.Hn) <= 2e-5, "hn");
        Assert.True(Helpers.WorstError(trace.Result.Cn, rt.Cn) <= 2e-5, "cn");
        Assert.True(Helpers.WorstError(d.DX, rg.DX) <= 1e-4, "dx");
        Assert.True(Helpers.WorstError(d.DH0, rg.DH0) <= 1e-4, "dh0");
        Assert.True(Helpers.WorstError(d.DC0, rg.DC0) <= 1e-4, "dc0");
        foreach (ParameterInfo info in fast.ParameterInfos)
        {
            Assert.True(Helpers.WorstError(grads[info.Name], rg.Parameters[info.Name]) <= 1e-4, info.Name);
        }
        Assert.Equal(trace.Result.Output, fast.Forward(x, T, B, h0, c0).Output); // inference: the same bits
    }

    private static readonly int[] Lengths = [3, 6, 0, 1, 6, 3]; // unsorted, 0, T and ties

    [Theory]
    [MemberData(nameof(VariantNames))]
    public void ReferenceBackward_WithLengths_MatchesCentralDifferences(string variant)
    {
        RecurrentOptions o = Variants[variant];
        const int T = 6, B = 6;
        var net = ReferenceNetwork.From(RecurrentNetwork.Create(o, seed: 1));
        int states = o.Directions * o.Layers * B;
        var worst = GradientChecker.Check(net, Helpers.Uniform(T * B * o.InputSize, 2), T, B, Helpers.Uniform(states * o.HiddenStateSize, 3, 0.5),
            Helpers.Uniform(states * o.HiddenSize, 4, 0.5), Helpers.Uniform(T * B * o.OutputSize, 5), Helpers.Uniform(states * o.HiddenStateSize, 6),
            Helpers.Uniform(states * o.HiddenSize, 7), Lengths);
        foreach (var (name, err) in worst)
        {
            Assert.True(err <= 1e-6, $"{variant}: {name} worst relative error {err:E2}"); // ReferenceGradientTests' bound
        }
    }

    [Theory]
    [MemberData(nameof(VariantsByPath))]
    public void FastPath_WithLengths_MatchesTheReference(string variant, SimdPath path)
    {
        RecurrentOptions o = Variants[variant] with { InputSize = 7, HiddenSize = 19, ProjectionSize = 5 };
        const int T = 6, B = 6;
        int states = o.Directions * o.Layers * B;
        RecurrentNetwork fast = RecurrentNetwork.Create(o, 11, path);
        ReferenceNetwork reference = ReferenceNetwork.From(fast);
        float[] x = Helpers.ToFloat(Helpers.Uniform(T * B * 7, 1));
        float[] h0 = Helpers.ToFloat(Helpers.Uniform(states * 5, 2, 0.5)), c0 = Helpers.ToFloat(Helpers.Uniform(states * 19, 3, 0.5));
        float[] dy = Helpers.ToFloat(Helpers.Uniform(T * B * o.OutputSize, 4));
        float[] dhn = Helpers.ToFloat(Helpers.Uniform(states * 5, 5)), dcn = Helpers.ToFloat(Helpers.Uniform(states * 19, 6));
        using TrainingTrace trace = fast.ForwardTraining(x, T, B, Lengths, h0, c0);
        ParameterSet grads = fast.CreateGradients();
        InputGradients d = fast.Backward(trace, dy, dhn, dcn, grads);
        ReferenceTrace rt = reference.Forward(Helpers.ToDouble(x), T, B, Helpers.ToDouble(h0), Helpers.ToDouble(c0), Lengths);
        ReferenceGradients rg = reference.Backward(rt, Helpers.ToDouble(dy), Helpers.ToDouble(dhn), Helpers.ToDouble(dcn));
        // FastVersusReferenceTests' bounds and reasons.
        Assert.True(Helpers.WorstError(trace.Result.Output, rt.Output) <= 2e-5, "y");
        Assert.True(Helpers.WorstError(trace.Result.Hn, rt.Hn) <= 2e-5, "hn");
        Assert.True(Helpers.WorstError(trace.Result.Cn, rt.Cn) <= 2e-5, "cn");
        Assert.True(Helpers.WorstError(d.DX, rg.DX) <= 1e-4, "dx");
        Assert.True(Helpers.WorstError(d.DH0, rg.DH0) <= 1e-4, "dh0");
        Assert.True(Helpers.WorstError(d.DC0, rg.DC0) <= 1e-4, "dc0");
        foreach (ParameterInfo info in fast.ParameterInfos)
        {
            Assert.True(Helpers.WorstError(grads[info.Name], rg.Parameters[info.Name]) <= 1e-4, info.Name);
        }
        Assert.Equal(trace.Result.Output, fast.Forward(x, T, B, Lengths, h0, c0).Output); // inference: the same bits
        Assert.True(Helpers.WorstError(fast.Forward(x, T, B, h0, c0).Output, rt.Output) > 1e-3, "lengths change the answer");
    }

    [Fact]
    public void Shapes_FollowPyTorch_AndThreadsGiveTheSameBits()
    {
        var o = new RecurrentOptions(6, 70, Layers: 2, Bidirectional: true, ProjectionSize: 20);
        Assert.Equal(40, o.OutputSize);
        Assert.Equal(40, o.LayerInputSize(1));
        using RecurrentNetwork net = RecurrentNetwork.Create(o, 3);
        Assert.Equal([280, 20], net.ParameterInfos.Single(i => i.Name == "weight_hh_l1_reverse").Shape);
        Assert.Equal([20, 70], net.ParameterInfos.Single(i => i.Name == "weight_hr_l1_reverse").Shape);
        Assert.Equal([280, 40], net.ParameterInfos.Single(i => i.Name == "weight_ih_l1").Shape);
        Assert.Equal(["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0", "weight_hr_l0"], net.ParameterInfos.Take(5).Select(i => i.Name));
        const int T = 3, B = 40;
        float[] x = Helpers.ToFloat(Helpers.Uniform(T * B * 6, 1));
        SequenceOutput one = net.Forward(x, T, B);
        Assert.Equal(T * B * 40, one.Output.Length);
        Assert.Equal(4 * B * 20, one.Hn.Length);
        Assert.Equal(4 * B * 70, one.Cn.Length);
        float[] y = new float[T * B * 40], hn = new float[4 * B * 20], cn = new float[4 * B * 70];
        net.Forward(x, T, B, y, hn, cn);
        Helpers.AssertBitwise(one.Output, y, "into the caller's buffers");
        Helpers.AssertBitwise(one.Cn, cn, "cn");
        net.Threads = 3; // one thread with projections: the same bits
        Helpers.AssertBitwise(one.Output, net.Forward(x, T, B).Output, "threads");
    }

    [Fact]
    public void Options_FollowPyTorchsRules_AndUnbuiltUsesAreRefused()
    {
        Assert.Equal("ProjectionSize", Assert.Throws<ArgumentException>(() => new RecurrentOptions(3, 4, ProjectionSize: 4).Validate()).ParamName);
        Assert.Equal("ProjectionSize", Assert.Throws<ArgumentException>(() => new RecurrentOptions(3, 4, Cell: CellKind.Rnn, ProjectionSize: 2).Validate()).ParamName);
        Assert.Equal("ProjectionSize", Assert.Throws<ArgumentException>(() => new RecurrentOptions(3, 4, Peepholes: true, ProjectionSize: 2).Validate()).ParamName);
        Assert.Equal("ProjectionSize", Assert.Throws<ArgumentException>(() => new RecurrentOptions(3, 4, ProjectionSize: -1).Validate()).ParamName);
        RecurrentNetwork net = RecurrentNetwork.Create(new RecurrentOptions(3, 4, ProjectionSize: 2), 1);
        var e = Assert.Throws<ArgumentException>(() => net.Forward(new float[2 * 3], 2, 1, new float[4], new float[4]));
        Assert.Equal("h0", e.ParamName); // h0 is [1, 1, P = 2]
    }

    [Theory]
    [MemberData(nameof(Helpers.Paths), MemberType = typeof(Helpers))]
    public void Stream_EqualsTheSequence_BitForBit_AndItsStateMovesAsPyTorchsShapes(SimdPath path)
    {
        // Tolerance 0: a stream step runs the same GEMMs and cell as the sequence pass, on the same h (P) and c (H).
        var o = new RecurrentOptions(5, 19, Layers: 2, ProjectionSize: 7);
        const int T = 9, Split = 4, B = 3;
        using RecurrentNetwork net = RecurrentNetwork.Create(o, 6, path);
        float[] x = Helpers.ToFloat(Helpers.Uniform(T * B * 5, 7));
        SequenceOutput whole = net.Forward(x, T, B), head = net.Forward(x.AsSpan(0, Split * B * 5), Split, B);
        using StreamState s = net.CreateStream(B, threads: 2);
        Assert.Equal(1, s.Threads); // projections step on the calling thread
        float[] y = new float[B * 7];
        for (int t = 0; t < T; t++)
        {
            net.Step(s, x.AsSpan(t * B * 5, B * 5), y);
            Helpers.AssertBitwise(whole.Output.AsSpan(t * B * 7, B * 7).ToArray(), y, $"y at step {t}");
        }
        float[] hn = new float[2 * B * 7], cn = new float[2 * B * 19];
        s.GetState(hn, cn);
        Helpers.AssertBitwise(whole.Hn, hn, "hn");
        Helpers.AssertBitwise(whole.Cn, cn, "cn");

        using StreamState resumed = net.CreateStream(B);
        resumed.SetState(head.Hn, head.Cn); // h0 [L, B, P], c0 [L, B, H]
        for (int t = Split; t < T; t++)
        {
            net.Step(resumed, x.AsSpan(t * B * 5, B * 5), y);
        }
        Helpers.AssertBitwise(whole.Output.AsSpan((T - 1) * B * 7).ToArray(), y, "y after SetState");
        using StreamState moved = net.CreateStream(B);
        moved.Import(s.Export());
        float[] h2 = new float[hn.Length], c2 = new float[cn.Length];
        moved.GetState(h2, c2);
        Helpers.AssertBitwise(hn, h2, "h after Export/Import");
        Helpers.AssertBitwise(cn, c2, "c after Export/Import");
        float[] rowH = new float[2 * 7], rowC = new float[2 * 19];
        moved.GetRow(1, rowH, rowC);
        Assert.Equal(hn[7], rowH[0]); // layer 0, row 1
        Assert.Throws<ArgumentException>(() => s.SetState(new float[2 * B * 19], cn));
        using StreamState other = RecurrentNetwork.Create(o with { ProjectionSize = 6 }, 1).CreateStream(B);
        Assert.Throws<InvalidDataException>(() => other.Import(s.Export())); // another P: another length
    }

    [Fact]
    public void Sessions_StepAsTheirStreams()
    {
        using RecurrentNetwork net = RecurrentNetwork.Create(new RecurrentOptions(3, 8, ProjectionSize: 2), 6);
        using var host = new SessionHost(net, 2);
        using var batcher = new SessionBatcher(host, TimeSpan.Zero);
        Session a = batcher.Open(), b = batcher.Open();
        using StreamState alone = net.CreateStream(1);
        float[] y = new float[2], expected = new float[2], other = new float[2];
        for (int t = 0; t < 4; t++)
        {
            float[] x = [t, 1, -t];
            batcher.Step(a, x, y);
            batcher.Step(b, [1, 1, 1], other);
            net.Step(alone, x, expected);
            Helpers.AssertBitwise(expected, y, $"session a at step {t}"); // y is P = 2 wide
        }
    }

    [Fact]
    public void PyTorchStateDict_ImportsWithItsProjection_AndExportsBack()
    {
        string file = Path.Combine(Helpers.RepositoryRoot(), "tests", "Lstm.Core.Tests", "Fixtures", "family", "lstm_proj_f32.npz");
        ImportedNetwork imported = PyTorchImport.Load(file);
        Assert.Equal(new RecurrentOptions(5, 7, Layers: 2, Bidirectional: true, ProjectionSize: 3), imported.Options);
        FamilyFixtureTests.Fixture f = FamilyFixtureTests.Load("lstm_proj_f32");
        SequenceOutput r = imported.Network.Forward(f.A["x"].ToSingle(), f.Steps, f.Batch, f.A["h0"].ToSingle(), f.A["c0"].ToSingle());
        FamilyFixtureTests.Check(r.Output, f.A["y"], "y");
        FamilyFixtureTests.Check(r.Hn, f.A["hn"], "hn");
        FamilyFixtureTests.Check(r.Cn, f.A["cn"], "cn");
        string back = Path.Combine(Path.GetTempPath(), $"proj-{Guid.NewGuid():N}.safetensors");
        try
        {
            PyTorchImport.Export(imported.Network, back);
            Assert.Equal(imported.Options, PyTorchImport.Load(back).Options);
        }
        finally
        {
            File.Delete(back);
        }
    }

    [Fact]
    public void ReducedWeightFormats_KeepTheProjectionInFloat32()
    {
        var o = new RecurrentOptions(4, 16, ProjectionSize: 6);
        RecurrentNetwork net = RecurrentNetwork.Create(o, 2);
        float[] x = Helpers.ToFloat(Helpers.Uniform(5 * 2 * 4, 3));
        SequenceOutput full = net.Forward(x, 5, 2);
        SequenceOutput half = net.WithWeightFormat(WeightFormat.Float16).Forward(x, 5, 2);
        // fp16 rounds W_ih and W_hh to 11 significant bits: about 5e-4 relative per weight, far below 1e-2 on outputs of order 0.1.
        Assert.True(Helpers.WorstError(half.Output, Helpers.ToDouble(full.Output)) <= 1e-2);
    }
}
