using System.Diagnostics;
using System.Runtime.CompilerServices;
using Lstm.Core.Threading;

namespace Lstm.Core.Tests;

/// <summary>
/// Hostile runs of <see cref="Team"/>: random pauses in random shares (spins around the 5 µs grace and the 50 µs slow
/// wait, yields, rare 1 ms sleeps), random phase counts (0 included) that change from run to run, workers held and
/// released between runs, several teams at once, shares that throw, Dispose in the middle of a run, a team dropped
/// while its job holds it. Every share of every phase must run once, after the whole phase before it (its value mixes
/// in every value of that phase, so a share run early, twice, or with a stale view of memory changes the bits), and no
/// share of a finished run may run again. Each action that could hang is bounded. Contention reports from the pauses
/// are process-wide, so the class runs alone and forgets them at the end.
/// </summary>
[Collection("Alone")]
public sealed class TeamStressTests : IDisposable
{
    /// <summary>Caps each test's runs (not an assertion: only the amount of stress, so a loaded machine stays fast).</summary>
    private static readonly TimeSpan StressBudget = TimeSpan.FromSeconds(1.2);

    public void Dispose() => Contention.Reset();

    private sealed class ShareFailed(int share) : Exception($"share {share} failed")
    {
        public int Share { get; } = share;
    }

    /// <summary>Share (p, j) writes Mix(every value of phase p - 1, p, j); counts its runs; pauses as told.</summary>
    private sealed class ChainJob(int size, int maxPhases) : ITeamJob
    {
        private readonly long[] values = new long[maxPhases * size];
        private readonly int[] runs = new int[maxPhases * size];
        private readonly int[] pauses = new int[maxPhases * size]; // 0 none, > 0 ticks to spin, -1 yield, -2 sleep 1 ms
        private int lateCalls;
        private volatile bool finished;

        public int Phases { get; private set; }

        public int Thrower { get; private set; } = -1;

        public Action<int, int>? During { get; set; }

        /// <summary>Set once the run that used this job returned: any share after that is a stale worker's.</summary>
        public bool Finished
        {
            get => finished;
            set => finished = value;
        }

        public int LateCalls => Volatile.Read(ref lateCalls);

        public void Prepare(Random random, int phases, int thrower, bool pause)
        {
            Phases = phases;
            Thrower = thrower;
            Finished = false;
            Array.Clear(values);
            Array.Clear(runs);
            for (int i = 0; i < pauses.Length; i++)
            {
                int roll = random.Next(100);
                pauses[i] = !pause || roll < 70 ? 0
                    : roll < 95 ? (int)Contention.Ticks(TimeSpan.FromMicroseconds(random.Next(1, 80)))
                    : roll < 99 ? -1
                    : -2;
            }
        }

        public void Run(int member, int phase)
        {
            if (finished)
            {
                Interlocked.Increment(ref lateCalls);
            }
            int i = (phase * size) + member;
            Interlocked.Increment(ref runs[i]);
            During?.Invoke(member, phase);
            Pause(pauses[i]);
            if (i == Thrower)
            {
                throw new ShareFailed(i);
            }
            values[i] = Mix(phase == 0 ? 0 : Sum(values.AsSpan((phase - 1) * size, size)), i);
        }

        public void AssertWhole(string what)
        {
            for (int i = 0; i < Phases * size; i++)
            {
                Assert.True(runs[i] == 1, $"{what}: share {i % size} of phase {i / size} ran {runs[i]} times");
            }
            long previous = 0;
            for (int phase = 0; phase < Phases; phase++)
            {
                for (int j = 0; j < size; j++)
                {
                    int i = (phase * size) + j;
                    Assert.True(Mix(previous, i) == values[i], $"{what}: share {j} of phase {phase} saw another phase {phase - 1}");
                }
                previous = Sum(values.AsSpan(phase * size, size));
            }
        }

        /// <summary>After share <paramref name="failed"/> threw: every earlier phase whole, no share run twice.</summary>
        public void AssertUpTo(int failed, string what)
        {
            for (int i = 0; i < Phases * size; i++)
            {
                Assert.True(runs[i] <= 1, $"{what}: share {i % size} of phase {i / size} ran {runs[i]} times");
                Assert.True(runs[i] == 1 || i / size >= failed / size, $"{what}: share {i % size} of phase {i / size}, before the failure, never ran");
            }
            Assert.Equal(1, runs[failed]);
        }

        private static long Sum(ReadOnlySpan<long> phase)
        {
            long s = 17;
            foreach (long v in phase) s = (s * 1_000_003) ^ v;
            return s;
        }

        private static long Mix(long seen, int share) => (seen * 6_364_136_223_846_793_005) + (2L * share) + 1;

        private static void Pause(int pause)
        {
            if (pause > 0)
            {
                long end = Stopwatch.GetTimestamp() + pause;
                while (Stopwatch.GetTimestamp() < end) Thread.SpinWait(4);
            }
            else if (pause == -1)
            {
                Thread.Yield();
            }
            else if (pause == -2)
            {
                Thread.Sleep(1);
            }
        }
    }

    /// <summary>null: the library's own way (late shares taken, contention ignored); true: strictly parallel.</summary>
    public static TheoryData<int, bool?> SizesAndModes() => new()
    {
        { 2, null }, { 3, null }, { 4, null }, { 2, true }, { 3, true }, { 4, true },
    };

    /// <summary>Runs of random phase counts, alternating two jobs so that a stale worker of one run shows in the next.</summary>
    private static int Hammer(Team team, bool? mode, int seed, int maxRuns, bool holdSometimes)
    {
        var random = new Random(seed);
        ChainJob[] jobs = [new ChainJob(team.Size, 6), new ChainJob(team.Size, 6)];
        var budget = Stopwatch.StartNew();
        int runs = 0;
        Helpers.WithTeamMode(mode, () =>
        {
            for (; runs < maxRuns && budget.Elapsed < StressBudget; runs++)
            {
                ChainJob job = jobs[runs & 1];
                job.Prepare(random, random.Next(7), thrower: -1, pause: random.Next(4) == 0);
                team.HoldWorkers = holdSometimes && random.Next(8) == 0;
                team.Run(job);
                job.Finished = true;
                job.AssertWhole($"run {runs} ({job.Phases} phases, {team.Size} members, mode {mode})");
                Assert.Equal(0, jobs[0].LateCalls + jobs[1].LateCalls);
            }
        });
        team.HoldWorkers = false;
        return runs;
    }

    [Theory]
    [MemberData(nameof(SizesAndModes))]
    public void EveryShare_RunsOnce_AfterTheWholePhaseBefore_WhoeverRunsIt(int size, bool? mode)
    {
        using var team = new Team(size);
        LifetimeTests.RunBounded(() => Assert.True(Hammer(team, mode, seed: size, maxRuns: 3000, holdSometimes: mode is null) > 0));
    }

    [Fact]
    public void SeveralTeamsAtOnce_OfTwoToFourMembers_EachRunWhole()
    {
        Team[] teams = [new Team(2), new Team(3), new Team(4)];
        try
        {
            LifetimeTests.RunBounded(() => Task.WaitAll(teams.Select((team, k) => Task.Factory.StartNew(
                () => Hammer(team, k == 1 ? true : null, seed: 10 + k, maxRuns: 1000, holdSometimes: k == 2),
                CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)).ToArray()));
        }
        finally
        {
            foreach (Team team in teams) team.Dispose();
        }
    }

    [Theory]
    [MemberData(nameof(SizesAndModes))]
    public void AShareThatThrows_ReachesTheCaller_WithEveryEarlierPhaseWhole_AndTheNextRunIsWhole(int size, bool? mode)
    {
        using var team = new Team(size);
        var random = new Random(100 + size);
        var job = new ChainJob(size, 5);
        var budget = Stopwatch.StartNew();
        LifetimeTests.RunBounded(() => Helpers.WithTeamMode(mode, () =>
        {
            for (int run = 0; run < 600 && budget.Elapsed < StressBudget; run++)
            {
                int phases = 1 + random.Next(5), thrower = random.Next(phases * size);
                job.Prepare(random, phases, thrower, pause: random.Next(4) == 0);
                var e = Assert.Throws<ShareFailed>(() => team.Run(job));
                Assert.Equal(thrower, e.Share);
                job.AssertUpTo(thrower, $"run {run}");

                job.Prepare(random, phases, thrower: -1, pause: false);
                team.Run(job);
                job.AssertWhole($"the run after run {run}");
            }
        }));
    }

    [Theory]
    [MemberData(nameof(SizesAndModes))]
    public void DisposeDuringARun_LetsTheRunEndWhole_AndTheNextRunThrowsObjectDisposed(int size, bool? mode)
    {
        var team = new Team(size);
        var job = new ChainJob(size, 3);
        LifetimeTests.RunBounded(() => Helpers.WithTeamMode(mode, () =>
        {
            job.Prepare(new Random(1), 3, thrower: -1, pause: false);
            team.Run(job); // the workers have started and run shares
            job.Prepare(new Random(2), 3, thrower: -1, pause: false);
            job.During = (member, phase) =>
            {
                if (member == 0 && phase == 0)
                {
                    team.Dispose(); // the workers stop while the caller is in share 0 of the first of 3 phases
                }
            };
            team.Run(job);
            job.AssertWhole("the run Dispose interrupted");
            Assert.Throws<ObjectDisposedException>(() => team.Run(job));
        }));
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void WorkersStoppedByDispose_AreNotReportedAsContention(int size)
    {
        for (int round = 0; round < 10; round++) // a worker that went to sleep first is not counted late: a few tries
        {
            var team = new Team(size);
            var job = new ChainJob(size, 3);
            LifetimeTests.RunBounded(() =>
            {
                Helpers.WithTeamMode(parallel: true, () => // every worker runs shares: its lateness now counts as contention
                {
                    for (int i = 0; i < 20; i++)
                    {
                        job.Prepare(new Random(i), 3, thrower: -1, pause: false);
                        team.Run(job);
                    }
                });
                Contention.Reset();
                long reports = Contention.Reports;
                job.Prepare(new Random(100), 3, thrower: -1, pause: false);
                job.During = (member, phase) =>
                {
                    if (member == 0 && phase == 0)
                    {
                        team.Dispose();
                    }
                };
                Helpers.WithTeamMode(parallel: null, () => team.Run(job));
                job.AssertWhole("the run Dispose interrupted");
                Assert.Equal(reports, Contention.Reports); // a report would send every team of the process alone for 10 ms
            });
        }
    }

    [Theory]
    [MemberData(nameof(SizesAndModes))]
    public void DisposeFromAnotherThread_WhileRunsGoOn_EndsThem(int size, bool? mode)
    {
        var random = new Random(200 + size);
        for (int round = 0; round < 20; round++)
        {
            var team = new Team(size);
            var job = new ChainJob(size, 6);
            using var running = new ManualResetEventSlim();
            int delay = random.Next(200);
            Task runs = Task.Factory.StartNew(() => Helpers.WithTeamMode(mode, () =>
            {
                var local = new Random(round);
                try
                {
                    for (int run = 0; ; run++)
                    {
                        job.Prepare(local, 1 + local.Next(6), thrower: -1, pause: true);
                        team.Run(job);
                        job.AssertWhole($"run {run}");
                        running.Set();
                    }
                }
                catch (ObjectDisposedException)
                {
                    running.Set();
                }
            }), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
            LifetimeTests.RunBounded(() =>
            {
                running.Wait();
                Thread.SpinWait(delay * 100);
                team.Dispose();
                runs.Wait();
            });
        }
    }

    [Theory]
    [MemberData(nameof(SizesAndModes))]
    public void AJobOfNegativePhases_IsRefused_AndTheNextRunIsWhole(int size, bool? mode)
    {
        using var team = new Team(size);
        var job = new ChainJob(size, 3);
        LifetimeTests.RunBounded(() => Helpers.WithTeamMode(mode, () =>
        {
            job.Prepare(new Random(1), 3, thrower: -1, pause: false);
            team.Run(job);
            job.Prepare(new Random(2), -2, thrower: -1, pause: false);
            var e = Assert.Throws<ArgumentException>(() => team.Run(job));
            Assert.Equal("work", e.ParamName);
            Assert.Contains("-2 phases", e.Message);
            job.Prepare(new Random(3), 3, thrower: -1, pause: false);
            team.Run(job);
            job.AssertWhole("the run after the refused one"); // phase numbers did not run back into claimed ones
        }));
    }

    /// <summary>A job that holds its team, as a threaded stream does: whatever a worker keeps of it keeps the team.</summary>
    private sealed class OwningJob(int size) : ITeamJob
    {
        public Team? Team { get; set; }

        public Thread?[] Threads { get; } = new Thread?[size];

        public int Phases => 2;

        public void Run(int member, int phase) => Threads[member] = Thread.CurrentThread;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static (WeakReference Team, Thread[] Workers) RunAndDrop(int size)
    {
        var job = new OwningJob(size) { Team = new Team(size) };
        Helpers.WithTeamMode(parallel: true, () =>
        {
            for (int i = 0; i < 50; i++) job.Team.Run(job); // strictly parallel: every worker runs, and reads the job
        });
        Thread[] workers = job.Threads.Skip(1).Select(t => t!).ToArray();
        Assert.All(workers, w => Assert.NotSame(Thread.CurrentThread, w));
        return (new WeakReference(job.Team), workers);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    public void ATeamDroppedWithoutDispose_WhoseJobHoldsIt_IsCollected_AndItsWorkersEnd(int size)
    {
        (WeakReference team, Thread[] workers) = RunAndDrop(size);
        var waited = Stopwatch.StartNew();
        while ((team.IsAlive || workers.Any(w => w.IsAlive)) && waited.Elapsed < TimeSpan.FromSeconds(20))
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            Thread.Sleep(10);
        }
        Assert.False(team.IsAlive, "a worker's stack (or the crew) still holds the last job, hence the team");
        Assert.All(workers, w => Assert.False(w.IsAlive, $"{w.Name} still running"));
    }

    private sealed class EmptyJob(int phases) : ITeamJob
    {
        public int Phases => phases;

        public void Run(int member, int phase)
        {
        }
    }

    [Theory]
    [InlineData(2, null)]
    [InlineData(3, null)]
    [InlineData(4, null)]
    [InlineData(2, true)] // strictly parallel with more members than this machine's 2 cores waits for time slices: seconds
    public void Runs_AllocateNothing_OnTheCallerNorOnTheWorkers(int size, bool? mode)
    {
        using var team = new Team(size);
        var job = new EmptyJob(3);
        LifetimeTests.RunBounded(() => Helpers.WithTeamMode(mode, () =>
        {
            Helpers.WarmUp(() => team.Run(job));
            long before = GC.GetAllocatedBytesForCurrentThread() + team.WorkerAllocatedBytes;
            for (int i = 0; i < 2000; i++) team.Run(job);
            Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() + team.WorkerAllocatedBytes - before);
        }));
    }
}
