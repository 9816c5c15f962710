using Lstm.Core;
using Lstm.Simd;

namespace Lstm.Core.Tests;

/// <summary>Many sessions of one network stepped as one (issue 12, item 2).</summary>
public class SessionTests
{
    public static TheoryData<SimdPath, CellKind, bool> Variants()
    {
        var d = new TheoryData<SimdPath, CellKind, bool>();
        foreach (SimdPath p in SimdPaths.Available)
        {
            d.Add(p, CellKind.Lstm, false);
            d.Add(p, CellKind.Lstm, true);
            d.Add(p, CellKind.Rnn, false);
            d.Add(p, CellKind.Gru, false);
        }
        return d;
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void AnySubsetInAnyOrder_GivesEachSessionItsLoneOutputs_BitForBit(SimdPath path, CellKind cell, bool peepholes)
    {
        // Tolerance 0: every output is one FMA chain over its own row, whichever rows share the step and in which order.
        const int I = 9, H = 67, Sessions = 6, Steps = 25;
        using RecurrentNetwork net = RecurrentNetwork.Create(new RecurrentOptions(I, H, Layers: 2, Cell: cell, Peepholes: peepholes), 21, path);
        using var host = new SessionHost(net, capacity: 8);
        Session[] sessions = Enumerable.Range(0, Sessions).Select(_ => host.Open()).ToArray();
        StreamState[] alone = Enumerable.Range(0, Sessions).Select(_ => net.CreateStream(1)).ToArray();
        var rng = new Random(5);
        float[] yAlone = new float[H];
        for (int t = 0; t < Steps; t++)
        {
            int[] chosen = Enumerable.Range(0, Sessions).Where(_ => rng.Next(3) > 0).OrderBy(_ => rng.Next()).ToArray();
            float[] x = Helpers.ToFloat(Helpers.Uniform(chosen.Length * I, 100 + t));
            float[] y = new float[chosen.Length * H];
            host.Step(chosen.Select(i => sessions[i]).ToArray(), x, y);
            for (int j = 0; j < chosen.Length; j++)
            {
                net.Step(alone[chosen[j]], x.AsSpan(j * I, I), yAlone);
                Helpers.AssertBitwise(yAlone, y.AsSpan(j * H, H).ToArray(), $"step {t}, session {chosen[j]}");
            }
        }
        foreach (StreamState s in alone) s.Dispose();
    }

    [Fact]
    public void OpenCloseAndStep_AllocateNothing()
    {
        using RecurrentNetwork net = RecurrentNetwork.Create(new RecurrentOptions(16, 64), 1);
        using var host = new SessionHost(net, capacity: 4);
        Session[] three = [host.Open(), host.Open(), host.Open()];
        float[] x = new float[3 * 16], y = new float[3 * 64];
        void Cycle()
        {
            host.Step(three, x, y);
            host.Close(three[1]);
            three[1] = host.Open();
        }
        Helpers.WarmUp(Cycle);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++) Cycle();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void ClosedSession_IsStale_AndReopeningStartsFromZero()
    {
        using RecurrentNetwork net = RecurrentNetwork.Create(new RecurrentOptions(3, 5), 2);
        using var host = new SessionHost(net, capacity: 2);
        Session a = host.Open(), b = host.Open();
        Assert.Throws<InvalidOperationException>(() => host.Open());
        host.Step([a, b], [1, 2, 3, 4, 5, 6], new float[10]);
        host.Close(a);
        Assert.False(host.IsOpen(a));
        Assert.Equal("sessions", Assert.Throws<ArgumentException>(() => host.Step([a], new float[3], new float[5])).ParamName);
        Session c = host.Open();
        Assert.Equal(a.Slot, c.Slot);
        float[] h = new float[5], cell = new float[5];
        host.GetState(c, h, cell);
        Assert.All(h.Concat(cell), v => Assert.Equal(0f, v));
        host.GetState(b, h, cell);
        Assert.Contains(h, v => v != 0);

        Assert.Equal("sessions", Assert.Throws<ArgumentException>(() => host.Step([b, b], new float[6], new float[10])).ParamName);
        Assert.Equal("x", Assert.Throws<ArgumentException>(() => host.Step([b, c], new float[5], new float[10])).ParamName);
    }

    [Fact]
    public void ASessionOfAnotherHost_IsRefused_EvenWithTheSameSlotAndGeneration()
    {
        using RecurrentNetwork net = RecurrentNetwork.Create(new RecurrentOptions(2, 3), 7);
        using var first = new SessionHost(net, 1);
        using var second = new SessionHost(net, 1);
        Session a = first.Open(), b = second.Open();
        Assert.Equal((a.Slot, a.Generation), (b.Slot, b.Generation));
        Assert.False(second.IsOpen(a));
        var e = Assert.Throws<ArgumentException>(() => second.Step([a], new float[2], new float[3]));
        Assert.Contains("another host", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SessionState_MovesBetweenHosts()
    {
        using RecurrentNetwork net = RecurrentNetwork.Create(new RecurrentOptions(4, 6, Layers: 2), 3);
        using var first = new SessionHost(net, 3);
        using var second = new SessionHost(net, 3);
        Session s = first.Open();
        first.Step([s], [1, 2, 3, 4], new float[6]);
        Session moved = second.Open();
        second.Open();
        second.Import(moved, first.Export(s));
        float[] y1 = new float[6], y2 = new float[6];
        first.Step([s], [4, 3, 2, 1], y1);
        second.Step([moved], [4, 3, 2, 1], y2);
        Helpers.AssertBitwise(y1, y2, "the next step after the move");
    }

    [Fact]
    public async Task Batcher_ManyThreads_EachGetsItsLoneOutputs()
    {
        const int I = 8, H = 40, Threads = 6, Steps = 200;
        using RecurrentNetwork net = RecurrentNetwork.Create(new RecurrentOptions(I, H), 4);
        using var host = new SessionHost(net, Threads);
        using var batcher = new SessionBatcher(host, TimeSpan.FromMilliseconds(0.05));
        Session[] sessions = Enumerable.Range(0, Threads).Select(_ => batcher.Open()).ToArray();
        float[][] inputs = Enumerable.Range(0, Threads).Select(i => Helpers.ToFloat(Helpers.Uniform(Steps * I, 50 + i))).ToArray();
        float[][] outputs = Enumerable.Range(0, Threads).Select(_ => new float[Steps * H]).ToArray();
        Task[] clients = Enumerable.Range(0, Threads).Select(i => Task.Factory.StartNew(() =>
        {
            var rng = new Random(i);
            for (int t = 0; t < Steps; t++)
            {
                if (rng.Next(4) == 0) Thread.Yield();   // arrivals that do not line up
                batcher.Step(sessions[i], inputs[i].AsSpan(t * I, I), outputs[i].AsSpan(t * H, H));
            }
        }, TaskCreationOptions.LongRunning)).ToArray();
        // A lost wake-up would hang a client: the bound turns that into a failure (TimeoutException).
        await Task.WhenAll(clients).WaitAsync(TimeSpan.FromSeconds(60));

        for (int i = 0; i < Threads; i++)
        {
            using StreamState alone = net.CreateStream(1);
            float[] y = new float[H];
            for (int t = 0; t < Steps; t++)
            {
                net.Step(alone, inputs[i].AsSpan(t * I, I), y);
                Helpers.AssertBitwise(y, outputs[i].AsSpan(t * H, H).ToArray(), $"client {i}, step {t}");
            }
        }
    }

    [Fact]
    public void Batcher_AFailedStep_ReachesTheCaller_LeavesYAlone_AndTheNextStepWorks()
    {
        using RecurrentNetwork net = RecurrentNetwork.Create(new RecurrentOptions(3, 5), 6);
        net.CheckFinite = true;
        using var host = new SessionHost(net, 2);
        using var batcher = new SessionBatcher(host, TimeSpan.Zero);
        Session s = batcher.Open();
        float[] y = [42, 42, 42, 42, 42];
        var e = Assert.Throws<InvalidOperationException>(() => batcher.Step(s, [1, float.NaN, 3], y));
        Assert.IsType<NonFiniteValueException>(e.InnerException);
        Assert.All(y, v => Assert.Equal(42f, v));   // not another step's stale output

        batcher.Step(s, [1, 2, 3], y);
        using StreamState alone = net.CreateStream(1);
        float[] expected = new float[5];
        net.Step(alone, [1, 2, 3], expected);
        Helpers.AssertBitwise(expected, y, "the step after the failed one");
    }
}
