using Lstm.Core;

namespace Lstm.Core.Tests;

/// <summary>Non-finite values, size arithmetic that would overflow, and long streaming runs.</summary>
public class ReliabilityTests
{
    private static RecurrentNetwork TwoLayers() => RecurrentNetwork.Create(new RecurrentOptions(3, 5, Layers: 2), 4);

    [Fact]
    public void NonFiniteValues_PropagateByDefault()
    {
        RecurrentNetwork net = TwoLayers();
        float[] x = Helpers.ToFloat(Helpers.Uniform(4 * 2 * 3, 1));
        x[(1 * 2 * 3) + (1 * 3) + 2] = float.NaN; // step 1, batch row 1, feature 2
        SequenceOutput r = net.Forward(x, 4, 2);
        Assert.True(float.IsNaN(r.Output[(1 * 2 * 5) + (1 * 5)]));  // that row's h from step 1 on
        Assert.True(float.IsFinite(r.Output[(1 * 2 * 5) + 0]));     // the other row is untouched
        Assert.True(float.IsFinite(r.Output[0 * 2 * 5]));           // and so is step 0
    }

    [Fact]
    public void CheckFinite_NamesTheInputElement()
    {
        RecurrentNetwork net = TwoLayers();
        net.CheckFinite = true;
        float[] x = Helpers.ToFloat(Helpers.Uniform(4 * 2 * 3, 1));
        x[(1 * 2 * 3) + (1 * 3) + 2] = float.PositiveInfinity;
        var e = Assert.Throws<NonFiniteValueException>(() => net.Forward(x, 4, 2));
        Assert.Equal(("x", 1, 1, 2), (e.Tensor, e.Step, e.BatchRow, e.Unit));
        Assert.Equal(float.PositiveInfinity, e.Value);
        Assert.Contains("step 1, batch row 1, unit 2", e.Message);

        // Batch-first input names the same step and row.
        RecurrentNetwork bf = RecurrentNetwork.FromParameters(net.Options with { BatchFirst = true },
            net.ParameterInfos.ToDictionary(i => i.Name, i => net.GetParameter(i.Name)));
        bf.CheckFinite = true;
        float[] xb = new float[x.Length];
        xb[(1 * 4 * 3) + (1 * 3) + 2] = float.NaN; // batch row 1, step 1, feature 2
        e = Assert.Throws<NonFiniteValueException>(() => bf.Forward(xb, 4, 2));
        Assert.Equal((1, 1, 2), (e.Step, e.BatchRow, e.Unit));
    }

    [Fact]
    public void CheckFinite_NamesTheLayerStepRowAndUnit_WhereTheNetworkMadeTheFirstNaN()
    {
        RecurrentNetwork net = TwoLayers();
        float[] b = net.GetParameter("bias_hh_l1");
        b[(2 * 5) + 3] = float.NaN; // the g gate of unit 3 in layer 1: c and h of that unit go NaN at step 0
        net.SetParameter("bias_hh_l1", b);
        float[] x = Helpers.ToFloat(Helpers.Uniform(4 * 2 * 3, 1));
        Assert.True(float.IsNaN(net.Forward(x, 4, 2).Output[3]));

        net.CheckFinite = true;
        var e = Assert.Throws<NonFiniteValueException>(() => net.Forward(x, 4, 2));
        Assert.Equal(("c", 1, 0, 0, 0, 3), (e.Tensor, e.Layer, e.Direction, e.Step, e.BatchRow, e.Unit));

        StreamState s = net.CreateStream(2);
        e = Assert.Throws<NonFiniteValueException>(() => net.Step(s, x.AsSpan(0, 6), new float[10]));
        Assert.Equal(("c", 1, 0, 3), (e.Tensor, e.Layer, e.Step, e.Unit));
    }

    [Fact]
    public void CheckFinite_InAStream_CountsSteps()
    {
        RecurrentNetwork net = TwoLayers();
        net.CheckFinite = true;
        StreamState s = net.CreateStream();
        float[] x = [0.1f, 0.2f, 0.3f], y = new float[5];
        for (int i = 0; i < 7; i++) net.Step(s, x, y);
        x[1] = float.NaN;
        var e = Assert.Throws<NonFiniteValueException>(() => net.Step(s, x, y));
        Assert.Equal(("x", 7, 1), (e.Tensor, e.Step, e.Unit));
    }

    [Fact]
    public void SizesThatWouldOverflow_AreRefusedBeforeAllocating()
    {
        RecurrentNetwork net = RecurrentNetwork.Create(new RecurrentOptions(2, 64), 1);
        long before = GC.GetAllocatedBytesForCurrentThread();
        // 2^28 steps × 4 rows × 256 gate columns = 2^38 floats: more than any array, checked before x's length.
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => net.Forward([], 1 << 28, 4));
        Assert.Equal("steps", e.ParamName);
        Assert.Contains("[268435456, 4, 256]", e.Message);
        e = Assert.Throws<ArgumentOutOfRangeException>(() => net.Forward([], int.MaxValue, int.MaxValue));
        Assert.Equal("steps", e.ParamName);
        e = Assert.Throws<ArgumentOutOfRangeException>(() => net.CreateStream(int.MaxValue / 8));
        Assert.Equal("batch", e.ParamName);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1 << 20, "nothing large was allocated");

        // A weight matrix of 4H × H = 6.4e9 elements cannot exist: the options say so, not an OverflowException.
        e = Assert.Throws<ArgumentOutOfRangeException>(() => RecurrentNetwork.Create(new RecurrentOptions(8, 40_000), 1));
        Assert.Equal("HiddenSize", e.ParamName);
        e = Assert.Throws<ArgumentOutOfRangeException>(() => new RecurrentOptions(1, 1 << 20, Layers: 1 << 12).Validate());
        Assert.Equal("HiddenSize", e.ParamName);
    }
}

/// <summary>Process-wide GC counters only mean something when no other test runs meanwhile.</summary>
[CollectionDefinition("Alone", DisableParallelization = true)]
public sealed class RunsAlone;

[Collection("Alone")]
public class SoakTests
{
    [Fact]
    public void Soak_HalfAMillionSteps_AllocateNothing_AndStayFinite()
    {
        // The bounded twin of `perf/Lstm.Benchmarks -- --soak 1000000` (README: Reliability).
        RecurrentNetwork net = RecurrentNetwork.Create(new RecurrentOptions(4, 16, Layers: 2), 3);
        StreamState s = net.CreateStream();
        float[] x = new float[4], y = new float[16];
        var rng = new Training.SeededRandom(5);
        for (int i = 0; i < 1000; i++) net.Step(s, x, y);
        GC.Collect();
        long heapBefore = GC.GetTotalMemory(forceFullCollection: true);
        long before = Helpers.AllocatedBytes(s);
        int collections = GC.CollectionCount(0);
        for (int i = 0; i < 500_000; i++)
        {
            x[i & 3] = (float)((rng.NextDouble() * 4) - 2);
            net.Step(s, x, y);
        }
        Assert.Equal(0, Helpers.AllocatedBytes(s) - before);
        Assert.Equal(collections, GC.CollectionCount(0));
        Assert.True(GC.GetTotalMemory(forceFullCollection: true) - heapBefore < 64 * 1024, "the heap stays flat");
        Assert.All(y, v => Assert.True(float.IsFinite(v) && Math.Abs(v) < 1));
        Assert.Equal(501_000, s.Steps);
    }
}
