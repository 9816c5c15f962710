using Lstm.Core;
using Lstm.Core.Reference;
using Lstm.Simd;

namespace Lstm.Core.Tests;

/// <summary>GRU networks (both linear_before_reset variants): streams, a hand-derived case, options, non-finite values, formats.</summary>
public class GruNetworkTests
{
    public static TheoryData<SimdPath, bool> PathsAndVariants()
    {
        var d = new TheoryData<SimdPath, bool>();
        foreach (SimdPath p in SimdPaths.Available) { d.Add(p, true); d.Add(p, false); }
        return d;
    }

    private static RecurrentOptions Gru(int input, int hidden, int layers = 1, bool linearBeforeReset = true) =>
        new(input, hidden, layers, Cell: CellKind.Gru, LinearBeforeReset: linearBeforeReset);

    [Theory]
    [MemberData(nameof(PathsAndVariants))]
    public void SingleSteps_EqualTheSequenceForward_BitForBit(SimdPath path, bool linearBeforeReset)
    {
        // Tolerance 0: a step runs the same GEMM chains and the same cell passes as the sequence.
        RecurrentOptions o = Gru(7, 13, 3, linearBeforeReset);
        const int T = 40, B = 2;
        RecurrentNetwork net = RecurrentNetwork.Create(o, 4, path);
        float[] x = Helpers.ToFloat(Helpers.Uniform(T * B * 7, 9));
        float[] h0 = Helpers.ToFloat(Helpers.Uniform(3 * B * 13, 10, 0.5));
        SequenceOutput seq = net.Forward(x, T, B, h0);
        Assert.Empty(seq.Cn);

        using StreamState s = net.CreateStream(B);
        s.SetState(h0, default);
        float[] y = new float[B * 13];
        for (int t = 0; t < T; t++)
        {
            net.Step(s, x.AsSpan(t * B * 7, B * 7), y);
            Helpers.AssertBitwise(seq.Output.AsSpan(t * B * 13, B * 13).ToArray(), y, $"step {t}");
        }
        float[] hn = new float[seq.Hn.Length];
        s.GetState(hn, default);
        Helpers.AssertBitwise(seq.Hn, hn, "hn");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void SteadyStateSteps_AllocateNothing(bool linearBeforeReset)
    {
        RecurrentNetwork net = RecurrentNetwork.Create(Gru(64, 128, 2, linearBeforeReset), 1);
        using StreamState s = net.CreateStream();
        float[] x = Helpers.ToFloat(Helpers.Uniform(64, 2)), y = new float[128];
        Helpers.WarmUp(() => net.Step(s, x, y));
        long before = Helpers.AllocatedBytes(s);
        for (int i = 0; i < 10_000; i++) net.Step(s, x, y);
        Assert.Equal(0, Helpers.AllocatedBytes(s) - before);
    }

    [Fact]
    public void ExportedState_ContinuesBitForBit_AndAnLstmStateIsRefused()
    {
        RecurrentNetwork net = RecurrentNetwork.Create(Gru(3, 9, 2), 2);
        using StreamState a = net.CreateStream(2), b = net.CreateStream(2);
        float[] x = Helpers.ToFloat(Helpers.Uniform(2 * 3, 3)), ya = new float[18], yb = new float[18];
        for (int t = 0; t < 5; t++) net.Step(a, x, ya);
        b.Import(a.Export());
        net.Step(a, x, ya);
        net.Step(b, x, yb);
        Helpers.AssertBitwise(ya, yb, "after import");

        RecurrentNetwork lstm = RecurrentNetwork.Create(new RecurrentOptions(3, 9, 2), 2);
        using StreamState other = lstm.CreateStream(2);
        var e = Assert.Throws<InvalidDataException>(() => b.Import(other.Export()));
        Assert.Contains("Lstm", e.Message);
    }

    [Theory]
    [MemberData(nameof(Helpers.Paths), MemberType = typeof(Helpers))]
    public void ResetBeforeProduct_MatchesAHandDerivedCase(SimdPath path)
    {
        // I = H = 1, one step, x = 1, h0 = 0.5. All r and z weights and biases 0, so r = z = 1/2. The n block:
        // W_in = 0.25, W_hn = 2, b_in = 0, b_hn = 0.5.
        //   linear_before_reset = 0: n = tanh(0.25 + 2·(r·h0) + 0.5) = tanh(1.25)
        //   linear_before_reset = 1: n = tanh(0.25 + r·(2·h0 + 0.5)) = tanh(1)
        //   h = (1 − z)·n + z·h0 = n/2 + 1/4.
        // Gradients of L = h (linear_before_reset = 0), with g = dL/d(n's argument) = (1 − z)(1 − n²) = (1 − n²)/2:
        //   r: d(r·h0) = g·W_hn = 2g; dr = 2g·h0 = g; dG_r = g·r(1 − r) = g/4; dW_hr = dG_r·h0 = g/8.
        //   z: dG_z = (h0 − n)·z(1 − z) = (0.5 − n)/4; dW_hz = dG_z·h0 = (0.5 − n)/8.
        //   n: dW_hn = g·(r·h0) = g/4; db_hn = g; db_in = g; dW_in = g·x = g.
        //   dh0 = z + d(r·h0)·r = 1/2 + g.
        float[] wih = [0f, 0f, 0.25f], whh = [0f, 0f, 2f], bih = [0f, 0f, 0f], bhh = [0f, 0f, 0.5f];
        foreach (bool linearBeforeReset in new[] { false, true })
        {
            RecurrentOptions o = Gru(1, 1, 1, linearBeforeReset);
            var values = new Dictionary<string, float[]> { ["weight_ih_l0"] = wih, ["weight_hh_l0"] = whh, ["bias_ih_l0"] = bih, ["bias_hh_l0"] = bhh };
            RecurrentNetwork net = RecurrentNetwork.FromParameters(o, values, path);
            using TrainingTrace trace = net.ForwardTraining([1f], 1, 1, [0.5f]);
            double n = Math.Tanh(linearBeforeReset ? 1.0 : 1.25);
            // float32 against the exact value: tanh within 2.5 ulp, then two roundings on values < 1.
            const double Tolerance = 1e-6;
            Assert.Equal((n / 2) + 0.25, trace.Result.Output[0], Tolerance);
            if (linearBeforeReset)
            {
                continue;
            }
            ParameterSet g = net.CreateGradients();
            InputGradients d = net.Backward(trace, [1f], default, default, g);
            double gn = (1 - (n * n)) / 2;
            Assert.Equal(gn / 8, g["weight_hh_l0"][0], Tolerance);
            Assert.Equal((0.5 - n) / 8, g["weight_hh_l0"][1], Tolerance);
            Assert.Equal(gn / 4, g["weight_hh_l0"][2], Tolerance);
            Assert.Equal(gn / 4, g["bias_hh_l0"][0], Tolerance);
            Assert.Equal((0.5 - n) / 4, g["bias_hh_l0"][1], Tolerance);
            Assert.Equal(gn, g["bias_hh_l0"][2], Tolerance);
            Assert.Equal(gn, g["bias_ih_l0"][2], Tolerance);
            Assert.Equal(gn, g["weight_ih_l0"][2], Tolerance);
            Assert.Equal(0.5 + gn, d.DH0[0], Tolerance);
            Assert.Equal(gn * 0.25, d.DX[0], Tolerance); // dx = Σ dG·W_ih = g·W_in (the r and z weights are 0)
        }
    }

    [Fact]
    public void Options_RefuseWhatAGruDoesNotHave()
    {
        Assert.Throws<ArgumentException>(() => RecurrentNetwork.Create(new RecurrentOptions(2, 3, LinearBeforeReset: false), 1));
        Assert.Throws<ArgumentException>(() => RecurrentNetwork.Create(Gru(2, 3) with { Peepholes = true }, 1));
        RecurrentNetwork net = RecurrentNetwork.Create(Gru(2, 3), 1);
        Assert.Equal(3 * 3, net.GetParameter("bias_hh_l0").Length);
        Assert.Equal([9, 2], net.ParameterInfos[0].Shape);
        var e = Assert.Throws<ArgumentException>(() => net.Forward(new float[4], 2, 1, default, new float[3]));
        Assert.Equal("c0", e.ParamName);
        Assert.Contains("GRU has no cell state", e.Message);
        float[] y = new float[6], hn = new float[3];
        net.Forward([1f, 2f, 3f, 4f], 2, 1, y, hn, default);
        SequenceOutput expected = net.Forward([1f, 2f, 3f, 4f], 2, 1);
        Helpers.AssertBitwise(expected.Output, y, "Forward into caller buffers");
        Helpers.AssertBitwise(expected.Hn, hn, "hn into a caller buffer");
        e = Assert.Throws<ArgumentException>(() => net.Forward(new float[4], 2, 1, y, hn, new float[3]));
        Assert.Equal("cn", e.ParamName);
        using TrainingTrace trace = net.ForwardTraining(new float[4], 2, 1);
        e = Assert.Throws<ArgumentException>(() => net.Backward(trace, new float[6], default, new float[3], net.CreateGradients()));
        Assert.Equal("dcn", e.ParamName);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void NoStepsOrNoRows_GiveEmptyResults_AndHnIsH0(bool linearBeforeReset)
    {
        RecurrentNetwork net = RecurrentNetwork.Create(Gru(3, 5, 2, linearBeforeReset) with { Bidirectional = true }, 1);
        float[] h0 = Helpers.ToFloat(Helpers.Uniform(2 * 2 * 2 * 5, 3));
        using TrainingTrace none = net.ForwardTraining([], 0, 2, h0);
        Assert.Empty(none.Result.Output);
        Helpers.AssertBitwise(h0, none.Result.Hn, "hn = h0 after no steps");
        float[] dhn = Helpers.ToFloat(Helpers.Uniform(h0.Length, 4));
        InputGradients d = net.Backward(none, [], dhn, default, net.CreateGradients());
        Helpers.AssertBitwise(dhn, d.DH0, "dh0 = dhn after no steps");
        using TrainingTrace empty = net.ForwardTraining([], 4, 0);
        Assert.Empty(empty.Result.Output);
        Assert.Empty(net.Backward(empty, [], default, default, net.CreateGradients()).DX);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void CheckFinite_NamesTheFirstNonFiniteH(bool linearBeforeReset)
    {
        RecurrentNetwork net = RecurrentNetwork.Create(Gru(3, 8, 2, linearBeforeReset), 1);
        float[] b = net.GetParameter("bias_hh_l1");
        b[(2 * 8) + 5] = float.NaN; // b_hn of unit 5 in layer 1
        net.SetParameter("bias_hh_l1", b);
        net.CheckFinite = true;
        float[] x = Helpers.ToFloat(Helpers.Uniform(4 * 3, 2));
        var e = Assert.Throws<NonFiniteValueException>(() => net.Forward(x, 4, 1));
        // b_hn of unit 5 enters unit 5's candidate only, in both variants: the first NaN is h of unit 5 at step 0.
        Assert.Equal(("h", 1, 0, 5), (e.Tensor, e.Layer, e.Step, e.Unit));
        using StreamState s = net.CreateStream();
        e = Assert.Throws<NonFiniteValueException>(() => net.Step(s, x.AsSpan(0, 3), new float[8]));
        Assert.Equal(("h", 1, 5), (e.Tensor, e.Layer, e.Unit));
    }

    [Theory]
    [InlineData(WeightFormat.Int8)]
    [InlineData(WeightFormat.BFloat16)]
    public void ResetBeforeProduct_InReducedFormats_StreamsAndSplitsWithForwardsBits(WeightFormat format)
    {
        RecurrentOptions o = Gru(24, 128, 2, linearBeforeReset: false);
        using RecurrentNetwork source = RecurrentNetwork.Create(o, 5);
        using RecurrentNetwork net = source.WithWeightFormat(format);
        const int T = 6, B = 40;
        float[] x = Helpers.ToFloat(Helpers.Uniform(T * B * 24, 6));
        SequenceOutput one = net.Forward(x, T, B);
        // Reduced weights move |y| < 1 by about 1e-3 at most here; a wrong gate or row order by 1e-1.
        double worst = one.Output.Zip(source.Forward(x, T, B).Output, (p, q) => Math.Abs(p - q)).Max();
        Assert.True(worst < 2e-2, $"{format}: {worst:e3} from float32");
        net.Threads = 2; // 20 rows per thread: the rows split
        Helpers.AssertBitwise(one.Output, net.Forward(x, T, B).Output, "2 threads");
        SequenceOutput small = net.Forward(x.AsSpan(0, T * 2 * 24), T, 2); // 2 rows on 2 threads, H = 128 ≥ 2 × 64: the units split
        net.Threads = 1;
        Helpers.AssertBitwise(net.Forward(x.AsSpan(0, T * 2 * 24), T, 2).Output, small.Output, "units split");
        using StreamState s = net.CreateStream(B, threads: 2);
        Assert.Equal(2, s.Threads);
        float[] y = new float[B * 128];
        for (int t = 0; t < T; t++)
        {
            net.Step(s, x.AsSpan(t * B * 24, B * 24), y);
            Helpers.AssertBitwise(one.Output.AsSpan(t * B * 128, B * 128).ToArray(), y, $"stream step {t}");
        }
        Assert.Equal(source.GetParameter("bias_hh_l1"), net.GetParameter("bias_hh_l1"));
    }

    [Theory]
    [InlineData(WeightFormat.Int8)]
    [InlineData(WeightFormat.Float16)]
    public void AReducedGru_SavedAndLoaded_IsTheSameGru_WithTheSameBits(WeightFormat format)
    {
        using RecurrentNetwork net = RecurrentNetwork.Create(Gru(12, 40, 2) with { Bidirectional = true }, 7).WithWeightFormat(format);
        string path = Path.Combine(Path.GetTempPath(), $"gru-{format}-{Guid.NewGuid():N}.safetensors");
        try
        {
            Lstm.Core.Interop.PyTorchImport.Export(net, path, prefix: "gru.");
            Lstm.Core.Interop.ImportedNetwork back = Lstm.Core.Interop.PyTorchImport.Load(path);
            Assert.Equal(net.Options, back.Options);
            Assert.Equal(format, back.Network.WeightFormat);
            float[] x = Helpers.ToFloat(Helpers.Uniform(5 * 3 * 12, 8));
            Helpers.AssertBitwise(net.Forward(x, 5, 3).Output, back.Network.Forward(x, 5, 3).Output, "y");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void GradientChecker_OnAGru_CatchesAWrongRecurrentGradient()
    {
        // The reference's n-block gradient is checked against differences above; this shows the check can fail on it.
        RecurrentOptions o = Gru(2, 3);
        var net = ReferenceNetwork.From(RecurrentNetwork.Create(o, 3));
        double[] x = Helpers.Uniform(4 * 2, 2), dy = Helpers.Uniform(4 * 3, 3), h0 = Helpers.Uniform(3, 4, 0.5);
        var analytic = net.Backward(net.Forward(x, 4, 1, h0), dy);
        net.Parameters["bias_hh_l0"][7] += 0.5; // b_hn of unit 1
        double[] w = net.Parameters["weight_hh_l0"];
        int i = (7 * 3) + 1;
        double keep = w[i];
        w[i] = keep + 1e-5; double up = net.Forward(x, 4, 1, h0).Output.Zip(dy, (p, q) => p * q).Sum();
        w[i] = keep - 1e-5; double down = net.Forward(x, 4, 1, h0).Output.Zip(dy, (p, q) => p * q).Sum();
        w[i] = keep;
        double gap = Math.Abs(((up - down) / 2e-5) - analytic.Parameters["weight_hh_l0"][i]);
        Assert.True(gap > 1e-4, $"analytic and numeric differ by only {gap:E2}");
    }
}
