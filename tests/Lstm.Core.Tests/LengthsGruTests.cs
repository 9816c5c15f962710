using Lstm.Core;
using Lstm.Simd;

namespace Lstm.Core.Tests;

/// <summary>
/// GRU networks on padded batches with lengths (PyTorch's packed sequences): each row gives the bits of running it
/// alone for its length, forward and backward. PyTorch's own numbers: FamilyFixtureTests' gru_lengths cases.
/// </summary>
public class LengthsGruTests
{
    private static readonly Dictionary<string, RecurrentOptions> Variants = new()
    {
        ["gru-bidirectional-stacked"] = new(5, 9, Layers: 2, Bidirectional: true, Cell: CellKind.Gru),
        ["gru-reset-before-product-bidirectional-no-bias"] = new(5, 9, Bidirectional: true, Cell: CellKind.Gru, LinearBeforeReset: false, Bias: false),
        ["gru-reset-before-product-stacked-batch-first"] = new(5, 9, Layers: 2, BatchFirst: true, Cell: CellKind.Gru, LinearBeforeReset: false),
        ["gru-no-bias-unidirectional"] = new(5, 9, Cell: CellKind.Gru, Bias: false),
    };

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
    private const int T = 6, B = 6;

    [Theory]
    [MemberData(nameof(VariantsByPath))]
    public void EachRow_GivesTheBitsOfRunningItAloneForItsLength_OutputsAndInputGradients(string variant, SimdPath path)
    {
        // Rows never mix and every GEMM output is one FMA chain whatever the row count: tolerance 0.
        RecurrentOptions o = Variants[variant];
        int i = o.InputSize, h = o.HiddenSize, k = o.Directions * o.Layers, width = o.OutputSize;
        RecurrentNetwork net = RecurrentNetwork.Create(o, 4, path);
        float[] x = Helpers.ToFloat(Helpers.Uniform(T * B * i, 8));
        float[] h0 = Helpers.ToFloat(Helpers.Uniform(k * B * h, 9, 0.5)), dhn = Helpers.ToFloat(Helpers.Uniform(k * B * h, 10));
        float[] dy = Helpers.ToFloat(Helpers.Uniform(T * B * width, 11));
        SequenceOutput inferred = net.Forward(x, T, B, Lengths, h0, default);
        using TrainingTrace trace = net.ForwardTraining(x, T, B, Lengths, h0, default);
        InputGradients d = net.Backward(trace, dy, dhn, default, net.CreateGradients());
        for (int b = 0; b < B; b++)
        {
            int len = Lengths[b];
            float[] xb = new float[len * i], dyb = new float[len * width], h0b = new float[k * h], dhnb = new float[k * h];
            for (int t = 0; t < len; t++)
            {
                x.AsSpan(Row(o, t, b, T, B) * i, i).CopyTo(xb.AsSpan(t * i));
                dy.AsSpan(Row(o, t, b, T, B) * width, width).CopyTo(dyb.AsSpan(t * width));
            }
            for (int s = 0; s < k; s++)
            {
                h0.AsSpan(((s * B) + b) * h, h).CopyTo(h0b.AsSpan(s * h));
                dhn.AsSpan(((s * B) + b) * h, h).CopyTo(dhnb.AsSpan(s * h));
            }
            SequenceOutput alone = net.Forward(xb, len, 1, h0b, default);
            using TrainingTrace aloneTrace = net.ForwardTraining(xb, len, 1, h0b, default);
            InputGradients da = net.Backward(aloneTrace, dyb, dhnb, default, net.CreateGradients());
            for (int t = 0; t < len; t++)
            {
                int row = Row(o, t, b, T, B);
                Helpers.AssertBitwise(alone.Output.AsSpan(t * width, width).ToArray(), inferred.Output.AsSpan(row * width, width).ToArray(), $"y of row {b} at step {t}");
                Helpers.AssertBitwise(alone.Output.AsSpan(t * width, width).ToArray(), trace.Result.Output.AsSpan(row * width, width).ToArray(), $"training y of row {b} at step {t}");
                Helpers.AssertBitwise(da.DX.AsSpan(t * i, i).ToArray(), d.DX.AsSpan(row * i, i).ToArray(), $"dx of row {b} at step {t}");
            }
            for (int t = len; t < T; t++) // past the row's length: 0
            {
                int row = Row(o, t, b, T, B);
                Assert.All(inferred.Output.AsSpan(row * width, width).ToArray(), v => Assert.Equal(0f, v));
                Assert.All(d.DX.AsSpan(row * i, i).ToArray(), v => Assert.Equal(0f, v));
            }
            for (int s = 0; s < k; s++)
            {
                Helpers.AssertBitwise(alone.Hn.AsSpan(s * h, h).ToArray(), inferred.Hn.AsSpan(((s * B) + b) * h, h).ToArray(), $"hn {s} of row {b}");
                Helpers.AssertBitwise(alone.Hn.AsSpan(s * h, h).ToArray(), trace.Result.Hn.AsSpan(((s * B) + b) * h, h).ToArray(), $"training hn {s} of row {b}");
                Helpers.AssertBitwise(da.DH0.AsSpan(s * h, h).ToArray(), d.DH0.AsSpan(((s * B) + b) * h, h).ToArray(), $"dh0 {s} of row {b}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(VariantsByPath))]
    public void OneRowShorterThanT_GivesTheParameterGradientBitsOfRunningItAlone(string variant, SimdPath path)
    {
        // One row padded to T: the packed pass's weight gradients sum the same rows in the same order as the plain pass
        // over its valid steps, so they match bit for bit (a batch's sum over rows is FamilyFixtureTests' gru_lengths case).
        RecurrentOptions o = Variants[variant];
        int i = o.InputSize, h = o.HiddenSize, k = o.Directions * o.Layers, width = o.OutputSize;
        RecurrentNetwork net = RecurrentNetwork.Create(o, 5, path);
        float[] x = Helpers.ToFloat(Helpers.Uniform(T * i, 12)), h0 = Helpers.ToFloat(Helpers.Uniform(k * h, 13, 0.5));
        float[] dy = Helpers.ToFloat(Helpers.Uniform(T * width, 14)), dhn = Helpers.ToFloat(Helpers.Uniform(k * h, 15));
        foreach (int len in new[] { 0, 1, 4 })
        {
            for (int t = len; t < T; t++) x.AsSpan(t * i, i).Fill(float.NaN); // padding: never read
            using TrainingTrace padded = net.ForwardTraining(x, T, 1, [len], h0, default);
            ParameterSet paddedGrads = net.CreateGradients();
            InputGradients d = net.Backward(padded, dy, dhn, default, paddedGrads);
            using TrainingTrace alone = net.ForwardTraining(x.AsSpan(0, len * i), len, 1, h0, default);
            ParameterSet aloneGrads = net.CreateGradients();
            InputGradients da = net.Backward(alone, dy.AsSpan(0, len * width), dhn, default, aloneGrads);
            foreach (ParameterInfo info in net.ParameterInfos)
            {
                Helpers.AssertBitwise(aloneGrads[info.Name], paddedGrads[info.Name], $"{info.Name}, length {len}");
            }
            Helpers.AssertBitwise(da.DH0, d.DH0, $"dh0, length {len}");
            Helpers.AssertBitwise(alone.Result.Hn, padded.Result.Hn, $"hn, length {len}");
        }
    }

    [Fact]
    public void ThreadsChangeNothing_ForwardAndBackward()
    {
        // Batches with lengths run on the calling thread whatever Threads says: B = 40 would split rows otherwise.
        RecurrentOptions o = Variants["gru-reset-before-product-stacked-batch-first"] with { HiddenSize = 70 };
        const int steps = 4, batch = 40;
        using RecurrentNetwork net = RecurrentNetwork.Create(o, 2);
        float[] x = Helpers.ToFloat(Helpers.Uniform(steps * batch * o.InputSize, 3)), dy = Helpers.ToFloat(Helpers.Uniform(steps * batch * o.OutputSize, 4));
        int[] mixed = Enumerable.Range(0, batch).Select(b => b % (steps + 1)).ToArray();
        (SequenceOutput Y, InputGradients D, ParameterSet G) Run()
        {
            SequenceOutput y = net.Forward(x, steps, batch, mixed);
            using TrainingTrace trace = net.ForwardTraining(x, steps, batch, mixed);
            ParameterSet g = net.CreateGradients();
            return (y, net.Backward(trace, dy, default, default, g), g);
        }
        var one = Run();
        net.Threads = 3;
        var many = Run();
        Helpers.AssertBitwise(one.Y.Output, many.Y.Output, "y");
        Helpers.AssertBitwise(one.Y.Hn, many.Y.Hn, "hn");
        Helpers.AssertBitwise(one.D.DX, many.D.DX, "dx");
        Helpers.AssertBitwise(one.D.DH0, many.D.DH0, "dh0");
        foreach (ParameterInfo info in net.ParameterInfos)
        {
            Helpers.AssertBitwise(one.G[info.Name], many.G[info.Name], info.Name);
        }
    }

    [Fact]
    public void ABatchWithLengths_DiffersFromThePlainPassOnThePaddedBatch()
    {
        // The plain pass runs the padding too: a different answer wherever a row is shorter than T (no silent fallback).
        RecurrentOptions o = Variants["gru-bidirectional-stacked"];
        RecurrentNetwork net = RecurrentNetwork.Create(o, 3);
        float[] x = Helpers.ToFloat(Helpers.Uniform(T * B * o.InputSize, 1));
        Assert.True(Helpers.WorstError(net.Forward(x, T, B).Hn, Helpers.ToDouble(net.Forward(x, T, B, Lengths).Hn)) > 1e-3);
    }

    private static int Row(RecurrentOptions o, int t, int b, int steps, int batch) => o.BatchFirst ? (b * steps) + t : (t * batch) + b;
}
