using Lstm.Core;
using Lstm.Simd;

namespace Lstm.Core.Tests;

/// <summary>One stream or one sequence on several threads: bitwise the same as on one, whatever the count.</summary>
public class ThreadedTests
{
    public static TheoryData<int, int, int, bool, bool> StreamCases()
    {
        var data = new TheoryData<int, int, int, bool, bool>();
        foreach (int threads in new[] { 2, 3, 4 })
        {
            foreach (int h in new[] { 7, 33, 64, 130 })
            {
                data.Add(threads, h, 1, true, false);
                data.Add(threads, h, 3, true, true);
                data.Add(threads, h, 2, false, false);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(StreamCases))]
    public void SplitStream_EqualsOneThread_BitForBit(int threads, int hidden, int batch, bool lstm, bool peepholes)
    {
        foreach (bool? parallel in new bool?[] { true, false, null })
        {
            Helpers.WithTeamMode(parallel, () => SplitStreamCase(threads, hidden, batch, lstm, peepholes));
        }
    }

    private static void SplitStreamCase(int threads, int hidden, int batch, bool lstm, bool peepholes)
    {
        var options = new RecurrentOptions(5, hidden, Layers: 2, Cell: lstm ? CellKind.Lstm : CellKind.Rnn, Peepholes: peepholes);
        RecurrentNetwork net = RecurrentNetwork.Create(options, 11);
        using StreamState one = net.CreateStream(batch), many = net.CreateStream(batch, threads);
        Assert.True(many.Threads > 1);
        float[] x = Helpers.ToFloat(Helpers.Uniform(40 * batch * 5, 3)), y1 = new float[batch * hidden], yn = new float[batch * hidden];
        for (int t = 0; t < 40; t++)
        {
            net.Step(one, x.AsSpan(t * batch * 5, batch * 5), y1);
            net.Step(many, x.AsSpan(t * batch * 5, batch * 5), yn);
            Helpers.AssertBitwise(y1, yn, $"y at step {t}");
        }
        for (int l = 0; l < 2; l++)
        {
            Helpers.AssertBitwise(one.Hidden(l).ToArray(), many.Hidden(l).ToArray(), $"h of layer {l}");
            Helpers.AssertBitwise(one.Cell(l).ToArray(), many.Cell(l).ToArray(), $"c of layer {l}");
        }
        many.Reset();
        net.Step(many, x.AsSpan(0, batch * 5), yn);
        one.Reset();
        net.Step(one, x.AsSpan(0, batch * 5), y1);
        Helpers.AssertBitwise(y1, yn, "after reset");
    }

    [Fact]
    public void SplitStream_AllocatesNothing_AndChecksFinite()
    {
        RecurrentNetwork net = RecurrentNetwork.Create(new RecurrentOptions(32, 64, Layers: 2), 1);
        using StreamState s = net.CreateStream(1, threads: 2);
        float[] x = Helpers.ToFloat(Helpers.Uniform(32, 2)), y = new float[64];
        Helpers.WarmUp(() => net.Step(s, x, y));
        long before = Helpers.AllocatedBytes(s);
        for (int i = 0; i < 5_000; i++) net.Step(s, x, y);
        Assert.Equal(0, Helpers.AllocatedBytes(s) - before);

        float[] b = net.GetParameter("bias_hh_l1");
        b[(2 * 64) + 50] = float.NaN; // unit 50: in the second thread's slice
        net.SetParameter("bias_hh_l1", b);
        net.CheckFinite = true;
        var e = Assert.Throws<NonFiniteValueException>(() => net.Step(s, x, y));
        Assert.Equal(("c", 1, 50), (e.Tensor, e.Layer, e.Unit));
    }
}

public class ThreadedSequenceTests
{
    public static TheoryData<int, int, int, int, bool, bool> Cases()
    {
        var data = new TheoryData<int, int, int, int, bool, bool>();
        foreach (int threads in new[] { 2, 3 })
        {
            data.Add(threads, 7, 1, 9, true, false);     // H too small to split: the calling thread
            data.Add(threads, 200, 3, 17, true, true);   // units split, peepholes, bidirectional
            data.Add(threads, 130, 2, 5, false, false);  // units split, RNN
            data.Add(threads, 20, 50, 6, true, false);   // rows split
            data.Add(threads, 20, 49, 4, false, true);   // rows split, RNN, bidirectional
        }
        data.Add(4, 5, 1, 3, true, false);               // H = 5 on 4 threads: 3 slices, falls back to one thread
        data.Add(4, 257, 1, 3, true, false);             // 4 unit slices of 80, 80, 80, 17
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Forward_OnSeveralThreads_EqualsOneThread_BitForBit(int threads, int hidden, int batch, int steps, bool lstm, bool bidirectional)
    {
        foreach (bool? parallel in new bool?[] { true, false, null })
        {
            Helpers.WithTeamMode(parallel, () => ForwardCase(threads, hidden, batch, steps, lstm, bidirectional));
        }
    }

    private static void ForwardCase(int threads, int hidden, int batch, int steps, bool lstm, bool bidirectional)
    {
        var options = new RecurrentOptions(6, hidden, Layers: 2, Bidirectional: bidirectional, Cell: lstm ? CellKind.Lstm : CellKind.Rnn,
            Peepholes: lstm && bidirectional);
        RecurrentNetwork net = RecurrentNetwork.Create(options, 5);
        float[] x = Helpers.ToFloat(Helpers.Uniform(steps * batch * 6, 8));
        float[] h0 = Helpers.ToFloat(Helpers.Uniform(options.Directions * 2 * batch * hidden, 9));
        float[] c0 = lstm ? Helpers.ToFloat(Helpers.Uniform(h0.Length, 10)) : [];
        SequenceOutput one = net.Forward(x, steps, batch, h0, c0);
        net.Threads = threads;
        for (int repeat = 0; repeat < 2; repeat++) // the second call reuses the kept team
        {
            SequenceOutput many = net.Forward(x, steps, batch, h0, c0);
            Helpers.AssertBitwise(one.Output, many.Output, "output");
            Helpers.AssertBitwise(one.Hn, many.Hn, "hn");
            Helpers.AssertBitwise(one.Cn, many.Cn, "cn");
        }
        net.Dispose();
        Assert.Throws<ObjectDisposedException>(() => net.Forward(x, steps, batch, h0, c0));
    }
}

public class ThreadedTrainingTests
{
    public static TheoryData<int, int, bool, bool, float> Cases() => new()
    {
        { 2, 32, true, false, 0f },     // rows split: 16 per thread
        { 2, 37, true, true, 0f },      // bidirectional, uneven rows
        { 3, 50, false, false, 0f },    // RNN on 3 threads
        { 2, 40, true, false, 0.3f },   // dropout between layers
        { 2, 8, true, false, 0f },      // too few rows per thread: the calling thread
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void ForwardTrainingAndBackward_OnSeveralThreads_EqualOneThread_BitForBit(int threads, int batch, bool lstm, bool bidirectional, float dropout)
    {
        foreach (bool? parallel in new bool?[] { true, false, null })
        {
            Helpers.WithTeamMode(parallel, () => TrainingCase(threads, batch, lstm, bidirectional, dropout, 70));
        }
    }

    // Backward split by hidden units (fewer than 16 rows per thread, H ≥ 64 per thread): one barrier per step.
    public static TheoryData<int, int, int, bool, bool, float> UnitCases() => new()
    {
        { 2, 1, 128, true, false, 0f },     // the README's B = 1 case, two slices of 64
        { 2, 1, 130, true, false, 0f },     // slices of 80 and 50 (not a whole panel)
        { 2, 3, 150, true, true, 0.2f },    // bidirectional, 3 rows, dropout
        { 3, 1, 200, true, false, 0f },     // 3 slices: 80, 80, 40
        { 2, 1, 129, false, false, 0f },    // RNN
        { 2, 8, 64, true, false, 0f },      // H too small for 2 slices of 64: the calling thread
    };

    [Theory]
    [MemberData(nameof(UnitCases))]
    public void Backward_SplitByUnits_EqualsOneThread_BitForBit(int threads, int batch, int hidden, bool lstm, bool bidirectional, float dropout)
    {
        foreach (bool? parallel in new bool?[] { true, false, null })
        {
            Helpers.WithTeamMode(parallel, () => TrainingCase(threads, batch, lstm, bidirectional, dropout, hidden));
        }
    }

    private static void TrainingCase(int threads, int batch, bool lstm, bool bidirectional, float dropout, int hidden)
    {
        const int T = 6, I = 5;
        int H = hidden;
        var options = new RecurrentOptions(I, H, Layers: 2, Bidirectional: bidirectional, Cell: lstm ? CellKind.Lstm : CellKind.Rnn);
        RecurrentNetwork net = RecurrentNetwork.Create(options, 3);
        float[] x = Helpers.ToFloat(Helpers.Uniform(T * batch * I, 4)), dy = Helpers.ToFloat(Helpers.Uniform(T * batch * options.OutputSize, 5));
        float[] dhn = Helpers.ToFloat(Helpers.Uniform(options.Directions * 2 * batch * H, 6));
        float[] dcn = lstm ? Helpers.ToFloat(Helpers.Uniform(dhn.Length, 7)) : [];

        (SequenceOutput, InputGradients, ParameterSet) Train()
        {
            using TrainingTrace trace = net.ForwardTraining(x, T, batch, default, default, dropout, dropout > 0 ? new Training.SeededRandom(9) : null);
            ParameterSet grads = net.CreateGradients();
            return (trace.Result, net.Backward(trace, dy, dhn, dcn, grads), grads);
        }

        var (y1, d1, g1) = Train();
        net.Threads = threads;
        long unitRuns = Lstm.Core.Threading.SplitBackwardUnits.Runs;
        var (yn, dn, gn) = Train();
        if (batch < 16 * threads && H >= RecurrentNetwork.MinUnitsPerThread * threads)
        {
            Assert.True(Lstm.Core.Threading.SplitBackwardUnits.Runs > unitRuns, "the backward pass was split by units");
        }
        net.Dispose();
        Helpers.AssertBitwise(y1.Output, yn.Output, "y");
        Helpers.AssertBitwise(y1.Cn, yn.Cn, "cn");
        Helpers.AssertBitwise(d1.DX, dn.DX, "dx");
        Helpers.AssertBitwise(d1.DH0, dn.DH0, "dh0");
        Helpers.AssertBitwise(d1.DC0, dn.DC0, "dc0");
        foreach (ParameterInfo p in net.ParameterInfos)
        {
            Helpers.AssertBitwise(g1[p.Name], gn[p.Name], p.Name);
        }
    }

    [Fact]
    public void ADisposedTrace_KeepsItsResult_ButCannotGoBackward()
    {
        RecurrentNetwork net = RecurrentNetwork.Create(new RecurrentOptions(3, 4), 1);
        float[] x = Helpers.ToFloat(Helpers.Uniform(2 * 3, 1));
        TrainingTrace trace = net.ForwardTraining(x, 2, 1);
        float[] y = (float[])trace.Result.Output.Clone();
        trace.Dispose();
        trace.Dispose(); // twice is fine
        net.ForwardTraining(x, 2, 1).Dispose(); // reuses the pooled buffers
        Assert.Equal(y, trace.Result.Output);
        Assert.Throws<ObjectDisposedException>(() => net.Backward(trace, new float[8], default, default, net.CreateGradients()));
    }
}

public class ForwardIntoTests
{
    [Theory]
    [InlineData(false, false, 1)]
    [InlineData(true, true, 1)]
    [InlineData(false, true, 2)]
    [InlineData(true, false, 2)]
    public void ForwardIntoCallerBuffers_EqualsForward_BitForBit(bool batchFirst, bool bidirectional, int threads)
    {
        const int T = 7, B = 33, I = 4, H = 130;
        var options = new RecurrentOptions(I, H, Layers: 2, Bidirectional: bidirectional, BatchFirst: batchFirst);
        RecurrentNetwork net = RecurrentNetwork.Create(options, 2);
        net.Threads = threads;
        float[] x = Helpers.ToFloat(Helpers.Uniform(T * B * I, 3));
        SequenceOutput expected = net.Forward(x, T, B);
        float[] y = new float[expected.Output.Length], hn = new float[expected.Hn.Length], cn = new float[expected.Cn.Length];
        for (int repeat = 0; repeat < 2; repeat++)
        {
            net.Forward(x, T, B, y, hn, cn);
            Helpers.AssertBitwise(expected.Output, y, "output");
            Helpers.AssertBitwise(expected.Hn, hn, "hn");
            Helpers.AssertBitwise(expected.Cn, cn, "cn");
        }

        var e = Assert.Throws<ArgumentException>(() => net.Forward(x, T, B, new float[y.Length - 1], hn, cn));
        Assert.Equal("output", e.ParamName);
        e = Assert.Throws<ArgumentException>(() => net.Forward(x, T, B, y, hn, new float[3]));
        Assert.Equal("cn", e.ParamName);
        net.Dispose();
    }
}

[Collection("Alone")] // timing-based, and it resets the process-wide contention state: no other test may run meanwhile
public class TeamTests
{
    private sealed class SlowMember(int phases, int sleepMs) : Lstm.Core.Threading.ITeamJob
    {
        public int[,] Order = new int[2, 64];
        private int counter;

        public int Phases => phases;

        public void Run(int member, int phase)
        {
            if (member == 1 && phase == 0 && sleepMs > 0) Thread.Sleep(sleepMs); // a core taken by another process
            Order[member, phase] = Interlocked.Increment(ref counter);
        }
    }

    [Fact]
    public void AContendedTeam_RunsAloneForAWhile_InPhaseOrder_ThenTriesParallelAgain()
    {
        Lstm.Core.Threading.Contention.Reset();
        using var team = new Lstm.Core.Threading.Team(2);
        // The worker runs shares of its own first (strictly parallel runs wait for it), so that it counts as awake: a
        // worker that is starting or waking is late without contention, and its lateness is not reported.
        Helpers.WithTeamMode(parallel: true, () =>
        {
            for (int i = 0; i < 4; i++) team.Run(new SlowMember(3, 0));
        });
        Lstm.Core.Threading.Team.IgnoreContention = true; // parallel whatever another test reported
        Lstm.Core.Threading.Contention.Reset();
        long reports = Lstm.Core.Threading.Contention.Reports;
        team.Run(new SlowMember(3, 5));                // share 1 of phase 0 takes 5 ms wherever it runs: contention
        Lstm.Core.Threading.Team.IgnoreContention = false;
        Assert.True(Lstm.Core.Threading.Contention.Reports > reports,
            $"a 5 ms wait for a share is reported (taken shares {team.TakenShares}, reports {reports} → {Lstm.Core.Threading.Contention.Reports})");
        long before = team.AloneRuns;
        var alone = new SlowMember(3, 0);
        team.Run(alone);
        Assert.Equal(before + 1, team.AloneRuns);
        for (int phase = 0; phase < 3; phase++)        // alone: member 0 then member 1, phase by phase
        {
            Assert.Equal((2 * phase) + 1, alone.Order[0, phase]);
            Assert.Equal((2 * phase) + 2, alone.Order[1, phase]);
        }
        var waited = System.Diagnostics.Stopwatch.StartNew();
        long last = team.AloneRuns;
        while (waited.Elapsed < TimeSpan.FromSeconds(10))
        {
            team.Run(new SlowMember(1, 0));
            if (team.AloneRuns == last) break;         // this run was parallel
            last = team.AloneRuns;
        }
        Assert.True(waited.Elapsed < TimeSpan.FromSeconds(10), "the window ends: the team tries parallel again");
        Lstm.Core.Threading.Contention.Reset();
    }

    private sealed class WhoRan(int phases, int size) : Lstm.Core.Threading.ITeamJob
    {
        public readonly int[,] Thread = new int[size, phases];
        public readonly int[,] Order = new int[size, phases];
        private int counter;

        public int Phases => phases;

        public void Run(int member, int phase)
        {
            Thread[member, phase] = Environment.CurrentManagedThreadId;
            Order[member, phase] = Interlocked.Increment(ref counter);
        }
    }

    [Fact]
    public void AWorkerThatNeverRuns_DoesNotHoldTheCaller_WhoTakesItsShares()
    {
        using var team = new Lstm.Core.Threading.Team(3);
        team.HoldWorkers = true; // as if the scheduler never gave the workers a core
        bool ignored = Lstm.Core.Threading.Team.IgnoreContention;
        Lstm.Core.Threading.Team.IgnoreContention = true;
        try
        {
            var job = new WhoRan(4, 3);
            team.Run(job);
            Assert.Equal(2 * 4, team.TakenShares);
            for (int phase = 0; phase < 4; phase++)
            {
                for (int member = 0; member < 3; member++)
                {
                    Assert.Equal(Environment.CurrentManagedThreadId, job.Thread[member, phase]);
                    Assert.Equal((3 * phase) + member + 1, job.Order[member, phase]); // phase by phase
                }
            }
            team.HoldWorkers = false;
            Helpers.WithTeamMode(parallel: true, () =>
            {
                var strict = new WhoRan(2, 3);
                team.Run(strict); // strictly parallel: each worker runs its own share again
                Assert.NotEqual(Environment.CurrentManagedThreadId, strict.Thread[1, 1]);
                Assert.NotEqual(strict.Thread[1, 1], strict.Thread[2, 1]);
            });
        }
        finally
        {
            Lstm.Core.Threading.Team.IgnoreContention = ignored;
            Lstm.Core.Threading.Contention.Reset();
        }
    }

    [Fact]
    public void StreamThreads_AreCappedAtOnePerMinUnitsPerThread()
    {
        const int floor = RecurrentNetwork.MinUnitsPerThread;
        Assert.Equal(1, RecurrentNetwork.StreamParts(32, 2, floor));
        Assert.Equal(1, RecurrentNetwork.StreamParts(127, 2, floor));
        Assert.Equal(2, RecurrentNetwork.StreamParts(128, 2, floor));
        Assert.Equal(3, RecurrentNetwork.StreamParts(200, 4, floor));
        Assert.Equal(2, RecurrentNetwork.StreamParts(512, 2, floor));
        int lowered = RecurrentNetwork.StreamUnitsPerThread;
        RecurrentNetwork.StreamUnitsPerThread = floor; // the library's own rule, end to end (no other test runs meanwhile)
        try
        {
            using var small = RecurrentNetwork.Create(new RecurrentOptions(4, 64), 1);
            using var large = RecurrentNetwork.Create(new RecurrentOptions(4, 128), 1);
            using StreamState one = small.CreateStream(8, threads: 2), two = large.CreateStream(1, threads: 2);
            Assert.Equal(1, one.Threads);
            Assert.Equal(2, two.Threads);
        }
        finally
        {
            RecurrentNetwork.StreamUnitsPerThread = lowered;
        }
    }
}
