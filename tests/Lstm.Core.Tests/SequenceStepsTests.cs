using Lstm.Core;
using Lstm.Core.Training;

namespace Lstm.Core.Tests;

/// <summary>
/// What the split of the sequence pass into steps (one ForwardLayer for inference and training, one backward loop for
/// every trace) made possible: the pooled ForwardTraining splits units like ForwardTrainingInto, BackwardInto takes any
/// trace, and every result carries its shape. Each gives the bits of the pass it joined.
/// </summary>
public class SequenceStepsTests
{
    private const int T = 5;

    private static (float[] X, float[] H0, float[] C0, float[] Dy, float[] Dhn, float[] Dcn) Inputs(RecurrentOptions o, int batch)
    {
        int states = o.Directions * o.Layers * batch;
        float[] Floats(int n, int seed) => Helpers.ToFloat(Helpers.Uniform(n, seed));
        bool lstm = o.Cell == CellKind.Lstm;
        return (Floats(T * batch * o.InputSize, 1), Floats(states * o.HiddenStateSize, 2), lstm ? Floats(states * o.HiddenSize, 3) : [],
            Floats(T * batch * o.OutputSize, 4), Floats(states * o.HiddenStateSize, 5), lstm ? Floats(states * o.HiddenSize, 6) : []);
    }

    [Fact]
    public void PooledForwardTraining_SplitsUnitsAtBatchOne_WithOneThreadsBits()
    {
        var o = new RecurrentOptions(6, 130, Layers: 2);
        var (x, h0, c0, _, _, _) = Inputs(o, 1);
        using RecurrentNetwork one = RecurrentNetwork.Create(o, 4);
        using RecurrentNetwork two = RecurrentNetwork.Create(o, 4);
        two.Threads = 2;
        using TrainingTrace expected = one.ForwardTraining(x, T, 1, h0, c0, 0.3f, new SeededRandom(9));
        long unitRuns = Lstm.Core.Threading.TrainingForwardUnits.Runs;
        TrainingTrace? trace = null;
        Helpers.WithTeamMode(parallel: null, () => trace = two.ForwardTraining(x, T, 1, h0, c0, 0.3f, new SeededRandom(9))); // even if another test reported contention
        using TrainingTrace split = trace!;
        Assert.True(Lstm.Core.Threading.TrainingForwardUnits.Runs > unitRuns, "the pooled forward pass was split by units");
        Helpers.AssertBitwise(expected.Result.Output, split.Result.Output, "y");
        Helpers.AssertBitwise(expected.Result.Hn, split.Result.Hn, "hn");
        Helpers.AssertBitwise(expected.Result.Cn, split.Result.Cn, "cn");
    }

    public static TheoryData<string> Kinds() => ["lengths", "lengths rnn", "projection", "projection lengths"];

    private static RecurrentOptions Options(string kind) => kind switch
    {
        "lengths rnn" => new RecurrentOptions(6, 9, Layers: 2, Bidirectional: true, Cell: CellKind.Rnn, BatchFirst: true),
        "projection" or "projection lengths" => new RecurrentOptions(6, 9, Layers: 2, Bidirectional: true, ProjectionSize: 4),
        _ => new RecurrentOptions(6, 9, Layers: 2, Bidirectional: true),
    };

    [Theory]
    [MemberData(nameof(Kinds))]
    public void BackwardInto_TakesAPooledTraceWithLengthsOrProjections_WithBackwardsBits(string kind)
    {
        const int B = 4;
        RecurrentOptions o = Options(kind);
        var (x, h0, c0, dy, dhn, dcn) = Inputs(o, B);
        int[] lengths = [5, 2, 0, 4];
        using RecurrentNetwork net = RecurrentNetwork.Create(o, 4);
        using TrainingTrace trace = kind.Contains("lengths", StringComparison.Ordinal)
            ? net.ForwardTraining(x, T, B, lengths, h0, c0, 0.25f, new SeededRandom(3))
            : net.ForwardTraining(x, T, B, h0, c0, 0.25f, new SeededRandom(3));
        ParameterSet expectedGrads = net.CreateGradients();
        InputGradients expected = net.Backward(trace, dy, dhn, dcn, expectedGrads);

        ParameterSet grads = net.CreateGradients();
        float[] dx = new float[x.Length], dh0 = new float[h0.Length], dc0 = new float[c0.Length];
        net.BackwardInto(trace, dy, dhn, dcn, grads, dx, dh0, dc0); // NotSupportedException before
        Helpers.AssertBitwise(expected.DX, dx, "dx");
        Helpers.AssertBitwise(expected.DH0, dh0, "dh0");
        Helpers.AssertBitwise(expected.DC0, dc0, "dc0");
        foreach (ParameterInfo p in net.ParameterInfos)
        {
            Helpers.AssertBitwise(expectedGrads[p.Name], grads[p.Name], p.Name);
        }
    }

    [Fact]
    public void EveryResult_CarriesItsShape()
    {
        const int B = 2;
        RecurrentOptions o = Options("projection") with { BatchFirst = true };
        var (x, _, _, _, _, _) = Inputs(o, B);
        using RecurrentNetwork net = RecurrentNetwork.Create(o, 4);
        SequenceOutput forward = net.Forward(x, T, B);          // a projected result had no shape before
        Assert.Equal([B, T, 8], forward.OutputTensor.Lengths.ToArray());
        Assert.Equal([4, B, 4], forward.HnTensor.Lengths.ToArray());
        Assert.Equal([4, B, 9], forward.CnTensor.Lengths.ToArray());
        using TrainingTrace pooled = net.ForwardTraining(x, T, B);
        Assert.Equal([4, B, 4], pooled.Result.HnTensor.Lengths.ToArray());
        Helpers.AssertBitwise(forward.Output, pooled.Result.Output, "y");

        RecurrentOptions plain = o with { ProjectionSize = 0 };
        using RecurrentNetwork unprojected = RecurrentNetwork.Create(plain, 4);
        using TrainingTrace reused = unprojected.CreateTrace(T, B); // a CreateTrace trace's result had no shape before
        unprojected.ForwardTrainingInto(reused, x);
        Assert.Equal([B, T, 18], reused.Result.OutputTensor.Lengths.ToArray());
        Assert.Equal([4, B, 9], reused.Result.HnTensor.Lengths.ToArray());
    }
}
