namespace Lstm.Core.Threading;

/// <summary>
/// Work split into phases: within a phase the members touch disjoint data; a barrier separates phases. So the same
/// job can run in parallel (each member runs its share of every phase, barriers between) or on the calling thread
/// alone (every member's share of phase 0, then of phase 1, ...) with identical results.
/// </summary>
internal interface ITeamJob
{
    int Phases { get; }

    void Run(int member, int phase);
}

/// <summary>
/// The calling thread (member 0) plus <c>Size - 1</c> dedicated workers that run one job at a time.
/// Waiting spins briefly, then yields, then (idle workers only) blocks. When waits keep running past the spin, another
/// process has taken a core; the team then runs its next jobs on the calling thread alone, in phase order (the same
/// results), and tries parallel again after an exponentially growing number of runs: a busy neighbour costs about what
/// one thread would, never a wait for the scheduler at every barrier. Not reentrant: one job at a time, from one
/// calling thread. A job must not throw between barriers (the others would wait for it).
/// </summary>
internal sealed class Team : IDisposable
{
    private const int SpinIterations = 4_000;   // ~20-50 µs of pause instructions before yielding the core
    private const int YieldIterations = 2_000;  // then ~1 ms of Thread.Yield before an idle worker blocks
    private const int MaxBackoff = 4_096;

    private readonly Thread[] workers;
    private readonly object gate = new();
    private ITeamJob? job;
    private int generation;
    private int running;
    private int sleepers;
    private bool disposed;
    private Exception? workerFailure;

    // Barrier: sense-reversing, so it can be reused immediately.
    private int arrived;
    private int sense;

    // Contention: waits that outlasted the spin in the current run, and how many runs stay on the caller.
    private int slowWaits;
    private int backoff;
    private int aloneRunsLeft;

    public Team(int size)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        Size = size;
        workers = new Thread[size - 1];
        for (int i = 0; i < workers.Length; i++)
        {
            int member = i + 1;
            workers[i] = new Thread(() => Work(member)) { IsBackground = true, Name = $"lstm team {member}/{size}" };
            workers[i].Start();
        }
    }

    public int Size { get; }

    /// <summary>Tests pin the mode on their thread: null decides by contention, true always parallel, false always alone.</summary>
    [ThreadStatic]
    internal static bool? ForceParallel;

    /// <summary>Runs so far on the calling thread alone because the team was contended (for tests and diagnostics).</summary>
    public long AloneRuns { get; private set; }

    /// <summary>Runs <paramref name="work"/> on every member and returns when all have finished.</summary>
    public void Run(ITeamJob work)
    {
        bool alone = ForceParallel is { } force ? !force : aloneRunsLeft > 0;
        if (Size == 1 || alone)
        {
            if (Size > 1)
            {
                aloneRunsLeft = Math.Max(0, aloneRunsLeft - 1);
                AloneRuns++;
            }
            RunAlone(work);
            return;
        }
        bool wasAsleep = Volatile.Read(ref sleepers) > 0;
        job = work;
        slowWaits = 0;
        Volatile.Write(ref running, Size - 1);
        // Publish the job before looking for sleepers: a worker counts itself asleep (Interlocked) before it reads the
        // generation, so either it sees the new one or this sees it and wakes it. No wake-up is lost.
        Interlocked.Increment(ref generation);
        if (Volatile.Read(ref sleepers) > 0)
        {
            lock (gate) Monitor.PulseAll(gate);
        }
        Exception? failure = null;
        try
        {
            RunMember(work, 0);
        }
        catch (Exception e)
        {
            failure = e;
        }
        var spinner = new Spinner();
        while (Volatile.Read(ref running) != 0)
        {
            spinner.Spin();
        }
        if (spinner.Yielded)
        {
            Interlocked.Increment(ref slowWaits);
        }
        job = null;
        failure ??= Interlocked.Exchange(ref workerFailure, null);
        if (failure is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
        }
        // Waking sleeping workers takes tens of µs: only a run that started awake says anything about contention (and a
        // worker that slept through a long back-off must not reset it).
        if (wasAsleep)
        {
            return;
        }
        if (Volatile.Read(ref slowWaits) > 0)
        {
            backoff = Math.Min(MaxBackoff, Math.Max(4, backoff * 2));
            aloneRunsLeft = backoff;
        }
        else
        {
            backoff = 0;
        }
    }

    public void Dispose()
    {
        lock (gate)
        {
            disposed = true;
            Monitor.PulseAll(gate);
        }
    }

    private void RunAlone(ITeamJob work)
    {
        for (int phase = 0; phase < work.Phases; phase++)
        {
            for (int member = 0; member < Size; member++)
            {
                work.Run(member, phase);
            }
        }
    }

    private void RunMember(ITeamJob work, int member)
    {
        int phases = work.Phases;
        for (int phase = 0; phase < phases; phase++)
        {
            work.Run(member, phase);
            if (phase < phases - 1)
            {
                Barrier();
            }
        }
    }

    private void Barrier()
    {
        int mySense = 1 - Volatile.Read(ref sense);
        if (Interlocked.Increment(ref arrived) == Size)
        {
            Volatile.Write(ref arrived, 0);
            Volatile.Write(ref sense, mySense);
            return;
        }
        var spinner = new Spinner();
        while (Volatile.Read(ref sense) != mySense)
        {
            spinner.Spin();
        }
        if (spinner.Yielded)
        {
            Interlocked.Increment(ref slowWaits);
        }
    }

    private void Work(int member)
    {
        int seen = 0;
        while (true)
        {
            var spinner = new Spinner();
            while (Volatile.Read(ref generation) == seen)
            {
                if (!spinner.Spin())
                {
                    lock (gate)
                    {
                        Interlocked.Increment(ref sleepers);
                        while (Volatile.Read(ref generation) == seen && !disposed)
                        {
                            Monitor.Wait(gate);
                        }
                        Interlocked.Decrement(ref sleepers);
                    }
                }
                if (Volatile.Read(ref disposed))
                {
                    return;
                }
            }
            seen = Volatile.Read(ref generation);
            try
            {
                RunMember(job!, member);
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref workerFailure, e, null);
            }
            finally
            {
                Interlocked.Decrement(ref running);
            }
        }
    }

    /// <summary>Spin, then yield; <see cref="Spin"/> returns false once yielding has gone on long enough to block.</summary>
    private struct Spinner
    {
        private int count;

        public readonly bool Yielded => count > SpinIterations;

        public bool Spin()
        {
            if (count < SpinIterations)
            {
                Thread.SpinWait(8);
            }
            else
            {
                Thread.Yield();
            }
            return ++count < SpinIterations + YieldIterations;
        }
    }
}
