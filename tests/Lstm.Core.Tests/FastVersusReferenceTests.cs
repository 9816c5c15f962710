using Lstm.Core;
using Lstm.Core.Reference;
using Lstm.Simd;

namespace Lstm.Core.Tests;

public class FastVersusReferenceTests
{
    public static TheoryData<SimdPath, string, int> Cases()
    {
        var d = new TheoryData<SimdPath, string, int>();
        foreach (SimdPath p in SimdPaths.Available)
        {
            foreach (string v in ReferenceGradientTests.VariantOptions.Keys)
            {
                d.Add(p, v, 23);
            }
            d.Add(p, "lstm", 200);
            d.Add(p, "rnn", 200);
            d.Add(p, "gru", 200);
            d.Add(p, "gru-reset-before-product", 200);
        }
        return d;
    }

    private static RecurrentOptions Odd(RecurrentOptions o) => o with { InputSize = 7, HiddenSize = o.Layers > 1 && o.Bidirectional ? 13 : 19 };

    [Theory]
    [MemberData(nameof(Cases))]
    public void FloatPath_MatchesDoubleReference_OutputsAndEveryGradient(SimdPath path, string variant, int steps)
    {
        RecurrentOptions o = Odd(ReferenceGradientTests.VariantOptions[variant]);
        const int B = 3;
        int state = o.Directions * o.Layers * B * o.HiddenSize;
        bool lstm = o.Cell == CellKind.Lstm;
        RecurrentNetwork fast = RecurrentNetwork.Create(o, seed: 11, path);
        ReferenceNetwork reference = ReferenceNetwork.From(fast);

        float[] x = Helpers.ToFloat(Helpers.Uniform(steps * B * o.InputSize, 1));
        float[] h0 = Helpers.ToFloat(Helpers.Uniform(state, 2, 0.5));
        float[] c0 = lstm ? Helpers.ToFloat(Helpers.Uniform(state, 3, 0.5)) : [];
        float[] dy = Helpers.ToFloat(Helpers.Uniform(steps * B * o.OutputSize, 4));
        float[] dhn = Helpers.ToFloat(Helpers.Uniform(state, 5));
        float[] dcn = lstm ? Helpers.ToFloat(Helpers.Uniform(state, 6)) : [];

        TrainingTrace trace = fast.ForwardTraining(x, steps, B, h0, c0);
        ParameterSet grads = fast.CreateGradients();
        InputGradients dIn = fast.Backward(trace, dy, dhn, dcn, grads);

        ReferenceTrace rt = reference.Forward(Helpers.ToDouble(x), steps, B, Helpers.ToDouble(h0), lstm ? Helpers.ToDouble(c0) : null);
        ReferenceGradients rg = reference.Backward(rt, Helpers.ToDouble(dy), Helpers.ToDouble(dhn), lstm ? Helpers.ToDouble(dcn) : null);

        // float32 against double: each GEMM row is a chain of I + H ≤ 45 FMAs (error ≤ 46·2^-24 relative to the sum of
        // |terms|), the cell adds a few ulp, and the recurrence carries earlier steps' errors forward with gain < 1
        // (|f| < 1, |tanh'| ≤ 1). 2e-5 relative to 1 + |value| bounds the forward pass; the backward pass sums
        // T·B products into each weight gradient, so its bound grows with √(T·B) rounding-error accumulation: 1e-4.
        const double ForwardTolerance = 2e-5;
        const double GradientTolerance = 1e-4;
        Assert.True(Helpers.WorstError(trace.Result.Output, rt.Output) <= ForwardTolerance, "y");
        Assert.True(Helpers.WorstError(trace.Result.Hn, rt.Hn) <= ForwardTolerance, "hn");
        if (lstm) Assert.True(Helpers.WorstError(trace.Result.Cn, rt.Cn) <= ForwardTolerance, "cn");
        Assert.True(Helpers.WorstError(dIn.DX, rg.DX) <= GradientTolerance, $"dx {Helpers.WorstError(dIn.DX, rg.DX):E2}");
        Assert.True(Helpers.WorstError(dIn.DH0, rg.DH0) <= GradientTolerance, "dh0");
        if (lstm) Assert.True(Helpers.WorstError(dIn.DC0, rg.DC0) <= GradientTolerance, "dc0");
        foreach (ParameterInfo info in fast.ParameterInfos)
        {
            double err = Helpers.WorstError(grads[info.Name], rg.Parameters[info.Name]);
            Assert.True(err <= GradientTolerance, $"{info.Name}: {err:E2}");
        }
    }

    [Theory]
    [MemberData(nameof(Helpers.Paths), MemberType = typeof(Helpers))]
    public void SameInputs_GiveBitwiseIdenticalOutputsAndGradients(SimdPath path)
    {
        var o = new RecurrentOptions(5, 9, Layers: 2, Bidirectional: true, Peepholes: true);
        float[] x = Helpers.ToFloat(Helpers.Uniform(17 * 2 * 5, 1));
        float[] dy = Helpers.ToFloat(Helpers.Uniform(17 * 2 * 18, 2));
        (float[], float[][]) Run()
        {
            RecurrentNetwork net = RecurrentNetwork.Create(o, 3, path);
            TrainingTrace tr = net.ForwardTraining(x, 17, 2);
            ParameterSet g = net.CreateGradients();
            InputGradients d = net.Backward(tr, dy, default, default, g);
            return (tr.Result.Output, net.ParameterInfos.Select(i => g[i.Name]).Append(d.DX).ToArray());
        }
        var (y1, g1) = Run();
        var (y2, g2) = Run();
        Helpers.AssertBitwise(y1, y2, "y");
        for (int i = 0; i < g1.Length; i++) Helpers.AssertBitwise(g1[i], g2[i], $"gradient {i}");
    }

    [Fact]
    public void EveryPath_GivesTheSameBits()
    {
        // All paths compute the same FMA chains and the same activation algorithm: one network, bitwise one answer.
        var o = new RecurrentOptions(6, 21, Layers: 2);
        float[] x = Helpers.ToFloat(Helpers.Uniform(9 * 4 * 6, 1));
        float[]? first = null;
        foreach (SimdPath p in SimdPaths.Available)
        {
            float[] y = RecurrentNetwork.Create(o, 5, p).Forward(x, 9, 4).Output;
            if (first is null) first = y; else Helpers.AssertBitwise(first, y, p.ToString());
        }
    }
}
