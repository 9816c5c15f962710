using Lstm.Core;
using Lstm.Core.Reference;
using Lstm.Simd;

namespace Lstm.Core.Tests;

/// <summary>Variable-length batches (issue 14, item 6): PyTorch's packed-sequence semantics, forward and backward.</summary>
public class LengthsTests
{
    private static readonly Dictionary<string, RecurrentOptions> Variants = new()
    {
        ["lstm-bidirectional-stacked"] = new(3, 4, Layers: 2, Bidirectional: true),
        ["lstm-peepholes-batch-first"] = new(3, 4, BatchFirst: true, Peepholes: true),
        ["rnn-relu-bidirectional"] = new(3, 4, Bidirectional: true, Cell: CellKind.Rnn, Nonlinearity: RnnNonlinearity.Relu),
        ["rnn-no-bias-stacked"] = new(3, 4, Layers: 2, Cell: CellKind.Rnn, Bias: false),
        ["gru-bidirectional-stacked"] = new(3, 4, Layers: 2, Bidirectional: true, Cell: CellKind.Gru),
        ["gru-reset-before-product-no-bias-batch-first"] = new(3, 4, Bidirectional: true, BatchFirst: true, Cell: CellKind.Gru, LinearBeforeReset: false, Bias: false),
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

    // Unsorted, with a row of length 0, one of T and a tie: every case of the row sort and of the reverse direction's start.
    private static readonly int[] Lengths = [3, 6, 0, 1, 6, 3];

    [Theory]
    [MemberData(nameof(VariantNames))]
    public void ReferenceBackward_WithLengths_MatchesCentralDifferences(string variant)
    {
        RecurrentOptions o = Variants[variant];
        const int T = 6, B = 6;
        var net = ReferenceNetwork.From(RecurrentNetwork.Create(o, seed: 1));
        int state = o.Directions * o.Layers * B * o.HiddenSize;
        bool lstm = o.Cell == CellKind.Lstm;
        var worst = GradientChecker.Check(net, Helpers.Uniform(T * B * o.InputSize, 2), T, B, Helpers.Uniform(state, 3, 0.5),
            lstm ? Helpers.Uniform(state, 4, 0.5) : null, Helpers.Uniform(T * B * o.OutputSize, 5), Helpers.Uniform(state, 6), lstm ? Helpers.Uniform(state, 7) : null, Lengths);
        foreach (var (name, err) in worst)
        {
            Assert.True(err <= 1e-6, $"{variant}: {name} worst relative error {err:E2}"); // ReferenceGradientTests' bound
        }
    }

    [Theory]
    [MemberData(nameof(VariantsByPath))]
    public void FastPath_WithLengths_MatchesTheReference_AndZeroesPaddedPositions(string variant, SimdPath path)
    {
        RecurrentOptions o = Variants[variant] with { InputSize = 7, HiddenSize = 19 };
        const int T = 6, B = 6;
        int state = o.Directions * o.Layers * B * o.HiddenSize;
        bool lstm = o.Cell == CellKind.Lstm;
        RecurrentNetwork fast = RecurrentNetwork.Create(o, 11, path);
        ReferenceNetwork reference = ReferenceNetwork.From(fast);
        float[] x = Helpers.ToFloat(Helpers.Uniform(T * B * o.InputSize, 1));
        float[] h0 = Helpers.ToFloat(Helpers.Uniform(state, 2, 0.5)), c0 = lstm ? Helpers.ToFloat(Helpers.Uniform(state, 3, 0.5)) : [];
        float[] dy = Helpers.ToFloat(Helpers.Uniform(T * B * o.OutputSize, 4));
        float[] dhn = Helpers.ToFloat(Helpers.Uniform(state, 5)), dcn = lstm ? Helpers.ToFloat(Helpers.Uniform(state, 6)) : [];

        using TrainingTrace trace = fast.ForwardTraining(x, T, B, Lengths, h0, c0);
        ParameterSet grads = fast.CreateGradients();
        InputGradients d = fast.Backward(trace, dy, dhn, dcn, grads);
        ReferenceTrace rt = reference.Forward(Helpers.ToDouble(x), T, B, Helpers.ToDouble(h0), lstm ? Helpers.ToDouble(c0) : null, Lengths);
        ReferenceGradients rg = reference.Backward(rt, Helpers.ToDouble(dy), Helpers.ToDouble(dhn), lstm ? Helpers.ToDouble(dcn) : null);

        // FastVersusReferenceTests' bounds, for the same reasons.
        Assert.True(Helpers.WorstError(trace.Result.Output, rt.Output) <= 2e-5, "y");
        Assert.True(Helpers.WorstError(trace.Result.Hn, rt.Hn) <= 2e-5, "hn");
        if (lstm) Assert.True(Helpers.WorstError(trace.Result.Cn, rt.Cn) <= 2e-5, "cn");
        Assert.True(Helpers.WorstError(d.DX, rg.DX) <= 1e-4, "dx");
        Assert.True(Helpers.WorstError(d.DH0, rg.DH0) <= 1e-4, "dh0");
        if (lstm) Assert.True(Helpers.WorstError(d.DC0, rg.DC0) <= 1e-4, "dc0");
        foreach (ParameterInfo info in fast.ParameterInfos)
        {
            Assert.True(Helpers.WorstError(grads[info.Name], rg.Parameters[info.Name]) <= 1e-4, info.Name);
        }
        // Exactly 0 past each row's length, in y and in dX.
        for (int t = 0; t < T; t++)
        {
            for (int b = 0; b < B; b++)
            {
                if (t < Lengths[b]) continue;
                int yRow = o.BatchFirst ? (b * T) + t : (t * B) + b;
                Assert.All(trace.Result.Output.AsSpan(yRow * o.OutputSize, o.OutputSize).ToArray(), v => Assert.Equal(0f, v));
                Assert.All(d.DX.AsSpan(yRow * o.InputSize, o.InputSize).ToArray(), v => Assert.Equal(0f, v));
            }
        }
        // The same as a plain pass on the padded batch: a different answer wherever a row is shorter than T.
        Assert.True(Helpers.WorstError(fast.Forward(x, T, B, h0, c0).Output, rt.Output) > 1e-3);
    }

    [Theory]
    [MemberData(nameof(Helpers.Paths), MemberType = typeof(Helpers))]
    public void EachRow_GivesTheBitsOfRunningItAloneForItsLength(SimdPath path)
    {
        // Rows never mix and every GEMM output is one FMA chain whatever the row count: tolerance 0.
        var o = new RecurrentOptions(5, 9, Layers: 2, Bidirectional: true);
        const int T = 6, B = 6;
        RecurrentNetwork net = RecurrentNetwork.Create(o, 4, path);
        float[] x = Helpers.ToFloat(Helpers.Uniform(T * B * 5, 8));
        int state = o.Directions * o.Layers * o.HiddenSize;
        float[] h0 = Helpers.ToFloat(Helpers.Uniform(state * B, 9)), c0 = Helpers.ToFloat(Helpers.Uniform(state * B, 10));
        SequenceOutput all = net.Forward(x, T, B, Lengths, h0, c0);
        for (int b = 0; b < B; b++)
        {
            int len = Lengths[b];
            float[] xb = new float[len * 5], h0b = new float[state], c0b = new float[state];
            for (int t = 0; t < len; t++) x.AsSpan(((t * B) + b) * 5, 5).CopyTo(xb.AsSpan(t * 5));
            for (int k = 0; k < o.Directions * o.Layers; k++)
            {
                h0.AsSpan(((k * B) + b) * 9, 9).CopyTo(h0b.AsSpan(k * 9));
                c0.AsSpan(((k * B) + b) * 9, 9).CopyTo(c0b.AsSpan(k * 9));
            }
            SequenceOutput alone = net.Forward(xb, len, 1, h0b, c0b);
            for (int t = 0; t < len; t++)
            {
                Helpers.AssertBitwise(alone.Output.AsSpan(t * 18, 18).ToArray(), all.Output.AsSpan(((t * B) + b) * 18, 18).ToArray(), $"y of row {b} at step {t}");
            }
            for (int k = 0; k < o.Directions * o.Layers; k++)
            {
                Helpers.AssertBitwise(alone.Hn.AsSpan(k * 9, 9).ToArray(), all.Hn.AsSpan(((k * B) + b) * 9, 9).ToArray(), $"hn of row {b}");
                Helpers.AssertBitwise(alone.Cn.AsSpan(k * 9, 9).ToArray(), all.Cn.AsSpan(((k * B) + b) * 9, 9).ToArray(), $"cn of row {b}");
            }
        }
    }

    [Fact]
    public void FullLengths_GiveThePlainPassBits_AndThreadsChangeNothing()
    {
        var o = new RecurrentOptions(5, 70, Layers: 2);
        const int T = 4, B = 40;
        using RecurrentNetwork net = RecurrentNetwork.Create(o, 2);
        float[] x = Helpers.ToFloat(Helpers.Uniform(T * B * 5, 3));
        int[] full = Enumerable.Repeat(T, B).ToArray(), mixed = Enumerable.Range(0, B).Select(b => b % (T + 1)).ToArray();
        Helpers.AssertBitwise(net.Forward(x, T, B).Output, net.Forward(x, T, B, full).Output, "all lengths T");
        SequenceOutput one = net.Forward(x, T, B, mixed);
        net.Threads = 3;
        SequenceOutput many = net.Forward(x, T, B, mixed);
        Helpers.AssertBitwise(one.Output, many.Output, "y");
        Helpers.AssertBitwise(one.Hn, many.Hn, "hn");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    public void CheckFinite_LooksAtTheValidStepsOnly_AndNamesTheCallersRow(int projection)
    {
        var o = new RecurrentOptions(2, 3, Bidirectional: true, ProjectionSize: projection);
        RecurrentNetwork net = RecurrentNetwork.Create(o, 1);
        net.CheckFinite = true;
        const int T = 5, B = 3;
        int[] lengths = [2, 5, 4]; // sorted, the rows are 1, 2, 0
        float[] x = Helpers.ToFloat(Helpers.Uniform(T * B * 2, 2));
        float[] clean = net.Forward(x, T, B, lengths).Output;
        x[((3 * B) + 0) * 2] = float.NaN; // step 3 of row 0: padding (its length is 2), never read
        Helpers.AssertBitwise(clean, net.Forward(x, T, B, lengths).Output, "y with NaN padding");
        x[((3 * B) + 2) * 2] = float.NaN; // step 3 of row 2: valid
        var e = Assert.Throws<NonFiniteValueException>(() => net.Forward(x, T, B, lengths));
        Assert.Equal("x", e.Tensor);
        Assert.Equal(3, e.Step);
        Assert.Equal(2, e.BatchRow);
    }

    [Fact]
    public void BadLengths_NameTheRow()
    {
        RecurrentNetwork net = RecurrentNetwork.Create(new RecurrentOptions(2, 3), 1);
        float[] x = new float[4 * 3 * 2];
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => net.Forward(x, 4, 3, [4, 5, 1]));
        Assert.Equal("lengths", e.ParamName);
        Assert.Contains("lengths[1] (batch row 1) is 5; expected 0 ≤ length ≤ T = 4", e.Message);
        e = Assert.Throws<ArgumentOutOfRangeException>(() => net.ForwardTraining(x, 4, 3, [-1, 2, 1]));
        Assert.Contains("batch row 0", e.Message);
        var a = Assert.Throws<ArgumentException>(() => net.Forward(x, 4, 3, [1, 2]));
        Assert.Equal("lengths", a.ParamName);
        Assert.Contains("expected one per batch row, B = 3", a.Message);
    }
}
