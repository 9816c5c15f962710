using System.Runtime.CompilerServices;
using Lstm.Core;
using Lstm.Core.Threading;

namespace Lstm.Core.Tests;

/// <summary>
/// Threads and lifetimes: failures inside a team, use after Dispose, states stepped with the wrong network or from two
/// threads, thread counts sharing one network. A regression here used to hang, so every action that could hang runs
/// on a task with a generous bound and the test asserts that it ended.
/// </summary>
public class LifetimeTests
{
    /// <summary>Far beyond any step or run here (milliseconds), so only a hang reaches it, on the busiest machine.</summary>
    private static readonly TimeSpan HangBound = TimeSpan.FromSeconds(30);

    /// <summary>Runs <paramref name="action"/> on its own thread; fails if it has not ended within the bound, and rethrows what it threw.</summary>
    internal static void RunBounded(Action action)
    {
        WaitBounded(Task.Factory.StartNew(action, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default), "the action");
    }

    private static void WaitBounded(Task task, string what)
    {
        bool ended;
        try
        {
            ended = task.Wait(HangBound);
        }
        catch (AggregateException e) when (e.InnerException is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e.InnerException);
            throw;
        }
        Assert.True(ended, $"{what} still running after {HangBound.TotalSeconds} s: hung");
    }

    private sealed class ThrowingJob(int thrower, int failingPhase) : ITeamJob
    {
        public int Runs;

        public int Phases => 4;

        public void Run(int member, int phase)
        {
            if (member == thrower && phase == failingPhase)
            {
                Fail(member);
            }
            Interlocked.Increment(ref Runs);
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static void Fail(int member) => throw new InvalidOperationException($"member {member} failed");
    }

    [Theory]
    [InlineData(0, 1)] // the calling thread fails
    [InlineData(2, 1)] // a worker fails
    [InlineData(1, 3)] // a worker fails in the last phase (no barrier after it)
    public void AJobThatThrowsInATeam_ReachesTheCaller_AndTheTeamStaysUsable(int thrower, int phase)
    {
        using var team = new Team(3);
        RunBounded(() => Helpers.WithTeamMode(parallel: true, () =>
        {
            var e = Assert.Throws<InvalidOperationException>(() => team.Run(new ThrowingJob(thrower, phase)));
            Assert.Equal($"member {thrower} failed", e.Message);
            Assert.Contains(nameof(ThrowingJob), e.StackTrace); // rethrown with the stack where it was thrown

            var fine = new ThrowingJob(-1, 0);
            team.Run(fine);
            Assert.Equal(3 * 4, fine.Runs);
        }));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Step_AfterDispose_ThrowsObjectDisposed(int threads)
    {
        RecurrentNetwork net = RecurrentNetwork.Create(new RecurrentOptions(4, 64), 1);
        StreamState s = net.CreateStream(1, threads);
        float[] x = new float[4], y = new float[64];
        net.Step(s, x, y);
        s.Dispose();
        s.Dispose(); // twice is fine
        RunBounded(() => Helpers.WithTeamMode(parallel: true, () =>
        {
            for (int i = 0; i < 5; i++) // the first steps after Dispose used to succeed, then spin for ever
            {
                Assert.Throws<ObjectDisposedException>(() => net.Step(s, x, y));
            }
        }));
    }

    [Fact]
    public void ANetwork_AfterDispose_ThrowsObjectDisposed_ButItsParametersCanBeRead()
    {
        RecurrentNetwork net = RecurrentNetwork.Create(new RecurrentOptions(3, 64), 2);
        net.Threads = 2;
        float[] x = Helpers.ToFloat(Helpers.Uniform(2 * 3, 1));
        TrainingTrace trace = net.ForwardTraining(x, 2, 1);
        StreamState s = net.CreateStream();
        net.Dispose();
        net.Dispose();
        Assert.Throws<ObjectDisposedException>(() => net.Forward(x, 2, 1));
        Assert.Throws<ObjectDisposedException>(() => net.Forward(x, 2, 1, new float[128], new float[64], new float[64]));
        Assert.Throws<ObjectDisposedException>(() => net.ForwardTraining(x, 2, 1));
        Assert.Throws<ObjectDisposedException>(() => net.Backward(trace, new float[128], default, default, net.CreateGradients()));
        Assert.Throws<ObjectDisposedException>(() => net.Step(s, new float[3], new float[64]));
        Assert.Throws<ObjectDisposedException>(() => net.CreateStream());
        Assert.Throws<ObjectDisposedException>(() => net.Threads = 1);
        Assert.Equal(4 * 64 * 3, net.GetParameter("weight_ih_l0").Length);
        trace.Dispose();
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Step_WithAStateMadeByAnotherNetwork_ThrowsNamingTheState(int threads)
    {
        var options = new RecurrentOptions(4, 64);
        RecurrentNetwork a = RecurrentNetwork.Create(options, 1), b = RecurrentNetwork.Create(options, 2);
        using StreamState s = a.CreateStream(1, threads);
        float[] x = new float[4], y = new float[64];
        var e = Assert.Throws<ArgumentException>(() => b.Step(s, x, y));
        Assert.Equal("state", e.ParamName);
        Assert.Contains("another network", e.Message);
        Assert.Equal(0, s.Steps);
        a.Step(s, x, y); // its own network still steps it
        Assert.Equal(1, s.Steps);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void OneState_SteppedFromTwoThreadsAtOnce_ThrowsInvalidOperation(int threads)
    {
        RecurrentNetwork net = RecurrentNetwork.Create(new RecurrentOptions(4, 64, Layers: 2), 1);
        using StreamState s = net.CreateStream(1, threads);
        float[] x = Helpers.ToFloat(Helpers.Uniform(4, 3));
        using var inside = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        s.DuringStep = () =>
        {
            inside.Set();
            Assert.True(release.Wait(HangBound), "the test never released the first step");
        };
        // The first step holds the state (paused inside Step by the hook) while this thread tries a second one.
        Task first = Task.Factory.StartNew(() => net.Step(s, x, new float[64]), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        Assert.True(inside.Wait(HangBound), "the first step never started");
        s.DuringStep = null;
        RunBounded(() =>
        {
            var e = Assert.Throws<InvalidOperationException>(() => net.Step(s, x, new float[64]));
            Assert.Contains("another thread", e.Message);
        });
        release.Set();
        WaitBounded(first, "the first step");
        Assert.Equal(1, s.Steps); // the refused step took none

        float[] y = new float[64];
        net.Step(s, x, y); // the state is free again; and it equals one uninterrupted stream of two steps
        StreamState fresh = net.CreateStream();
        float[] expected = new float[64];
        net.Step(fresh, x, expected);
        net.Step(fresh, x, expected);
        Helpers.AssertBitwise(expected, y, "y after the refused step");
    }

    private sealed class AllocatingJob(int member) : ITeamJob
    {
        public object? Kept;

        public int Phases => 1;

        public void Run(int m, int phase)
        {
            if (m == member)
            {
                Kept = new byte[10_000];
            }
        }
    }

    [Fact]
    public void WorkerAllocations_AreCounted()
    {
        // What the 0-byte assertions rely on: bytes a worker allocates show up though the calling thread's do not.
        using var team = new Team(2);
        RunBounded(() => Helpers.WithTeamMode(parallel: true, () => team.Run(new AllocatingJob(1)))); // warm
        long workers = team.WorkerAllocatedBytes;
        RunBounded(() => Helpers.WithTeamMode(parallel: true, () =>
        {
            long caller = GC.GetAllocatedBytesForCurrentThread();
            team.Run(new AllocatingJob(1));
            Assert.True(GC.GetAllocatedBytesForCurrentThread() - caller < 10_000, "the caller did not allocate the array");
        }));
        Assert.InRange(team.WorkerAllocatedBytes - workers, 10_000, 11_000);
    }

    private sealed class NothingJob : ITeamJob
    {
        public int Phases => 2;

        public void Run(int member, int phase)
        {
        }
    }

    [Fact]
    public void WorkersThatSleepAndWake_AllocateNothing()
    {
        // Under contention a team runs alone and its idle workers block; the 0-byte claims must hold through that too.
        using var team = new Team(3);
        var job = new NothingJob();
        RunBounded(() => Helpers.WithTeamMode(parallel: true, () =>
        {
            for (int i = 0; i < 5; i++)
            {
                team.Run(job);
                Thread.Sleep(20); // long past the spin: the workers block in Monitor.Wait, the next run wakes them
            }
            long before = team.WorkerAllocatedBytes;
            for (int i = 0; i < 10; i++)
            {
                team.Run(job);
                Thread.Sleep(20);
            }
            Assert.Equal(0, team.WorkerAllocatedBytes - before);
        }));
    }
}

/// <summary>Counts process-wide worker threads, so no other test may start or stop teams meanwhile.</summary>
[Collection("Alone")]
public class WorkerLifetimeTests
{
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void MakeAndDropThreadedStreamsAndNetworks(int streams, int networks, int workersBefore)
    {
        var kept = new List<object>(); // until all are made: a collection meanwhile would already stop the first ones
        RecurrentNetwork net = RecurrentNetwork.Create(new RecurrentOptions(4, 128), 1);
        float[] x = new float[4], y = new float[128];
        for (int i = 0; i < streams; i++)
        {
            StreamState s = net.CreateStream(1, threads: 2);
            net.Step(s, x, y);
            kept.Add(s);
        }
        for (int i = 0; i < networks; i++)
        {
            RecurrentNetwork threaded = RecurrentNetwork.Create(new RecurrentOptions(4, 128), i);
            threaded.Threads = 2;
            // H = 128 ≥ 64 per thread: the units split, on the kept team (even if another test reported contention)
            Helpers.WithTeamMode(parallel: null, () => threaded.Forward(new float[3 * 4], 3, 1));
            kept.Add(threaded);
        }
        Assert.Equal(workersBefore + streams + networks, Team.LiveWorkers); // one worker each
        GC.KeepAlive(kept);
    }

    // Earlier tests' garbage may still hold teams: collect it and wait until the count stops moving.
    private static int SettledLiveWorkers()
    {
        int last = -1;
        for (int i = 0; i < 100 && Team.LiveWorkers != last; i++)
        {
            last = Team.LiveWorkers;
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            Thread.Sleep(50);
        }
        return Team.LiveWorkers;
    }

    [Fact]
    public void UndisposedThreadedStreamsAndNetworks_HaveTheirWorkersStopped_WhenCollected()
    {
        int before = SettledLiveWorkers();
        MakeAndDropThreadedStreamsAndNetworks(streams: 50, networks: 5, before);

        // Collection is not immediate: a finalizer stops each team, then its worker notices and ends.
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (Team.LiveWorkers > before && waited.Elapsed < TimeSpan.FromSeconds(30))
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            Thread.Sleep(20);
        }
        Assert.Equal(before, Team.LiveWorkers);
    }
}

/// <summary>
/// Counts the bytes the calling thread and the workers allocate over 400 steps of two teams (2 and 3 threads, 2 cores):
/// beside the parallel tests, the runtime's own work on those threads (tiering, a late background compile) landed in
/// the window once in a full CI run (8,144 bytes; 0 in 6 runs alone), so it runs alone. The 0-byte assertion stands.
/// </summary>
[Collection("Alone")]
public class SharedNetworkAllocationTests
{
    [Fact]
    public void StreamsOfTwoAndThreeThreads_ShareOneNetwork_WithoutSplittingItAgain()
    {
        RecurrentNetwork net = RecurrentNetwork.Create(new RecurrentOptions(32, 256, Layers: 2), 1);
        using StreamState two = net.CreateStream(1, threads: 2), three = net.CreateStream(1, threads: 3);
        Assert.Equal((2, 3), (two.Threads, three.Threads));
        float[] x = Helpers.ToFloat(Helpers.Uniform(32, 2)), y2 = new float[256], y3 = new float[256];
        Helpers.WarmUp(() =>
        {
            net.Step(two, x, y2);
            net.Step(three, x, y3);
        });
        HiddenSlice[][] slices = [net.Packed(0, 0).Slices(2), net.Packed(0, 0).Slices(3), net.Packed(1, 0).Slices(2), net.Packed(1, 0).Slices(3)];

        long before = Helpers.AllocatedBytes(two, three);
        for (int i = 0; i < 200; i++)
        {
            net.Step(two, x, y2);
            net.Step(three, x, y3);
        }
        Assert.Equal(0, Helpers.AllocatedBytes(two, three) - before);
        Assert.Same(slices[0], net.Packed(0, 0).Slices(2));
        Assert.Same(slices[1], net.Packed(0, 0).Slices(3));
        Assert.Same(slices[2], net.Packed(1, 0).Slices(2));
        Assert.Same(slices[3], net.Packed(1, 0).Slices(3));
        Helpers.AssertBitwise(y2, y3, "y on 2 and on 3 threads");
    }
}
