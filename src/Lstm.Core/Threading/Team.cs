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
/// The calling thread (member 0) plus <c>Size - 1</c> dedicated workers that run one job at a time (see <see cref="Crew"/>).
/// This handle is what owners hold; the workers hold only the crew, so an owner dropped without <see cref="Dispose"/>
/// becomes garbage, and this handle's finalizer stops the workers.
/// </summary>
internal sealed class Team : IDisposable
{
    private readonly Crew crew;

    public Team(int size) => crew = new Crew(size);

    ~Team() => crew.Stop();

    public int Size => crew.Size;

    /// <summary>Tests pin the mode on their thread: null decides by contention, true always parallel, false always alone.</summary>
    [ThreadStatic]
    internal static bool? ForceParallel;

    /// <summary>Runs so far on the calling thread alone because the team was contended (for tests and diagnostics).</summary>
    public long AloneRuns => crew.AloneRuns;

    /// <summary>Bytes the workers' threads have allocated since they started (the caller's are its own to count).</summary>
    internal long WorkerAllocatedBytes => crew.WorkerAllocatedBytes;

    /// <summary>Worker threads of every team in the process that have not ended yet.</summary>
    internal static int LiveWorkers => Crew.LiveWorkers;

    /// <summary>
    /// Runs <paramref name="work"/> on every member and returns when all have finished. If a member throws, the others
    /// still pass every barrier (skipping the rest of the job's work), and the first exception is rethrown here with
    /// its original stack trace; the team stays usable.
    /// </summary>
    public void Run(ITeamJob work)
    {
        crew.Run(work);
        GC.KeepAlive(this); // the finalizer must not stop the crew while a run that came through this handle is on it
    }

    public void Dispose()
    {
        crew.Stop();
        GC.SuppressFinalize(this);
    }
}

/// <summary>
/// The workers and their shared state. Waiting spins briefly, then yields, then (idle workers only) blocks. When waits
/// keep running past the spin, another process has taken a core; the crew then runs its next jobs on the calling thread
/// alone, in phase order (the same results), and tries parallel again after an exponentially growing number of runs: a
/// busy neighbour costs about what one thread would, never a wait for the scheduler at every barrier. Not reentrant:
/// one job at a time, from one calling thread. Holds no reference to its owner (only to the running job, during a run).
/// </summary>
internal sealed class Crew
{
    private const int SpinIterations = 4_000;   // ~20-50 µs of pause instructions before yielding the core
    private const int YieldIterations = 2_000;  // then ~1 ms of Thread.Yield before an idle worker blocks
    private const int MaxBackoff = 4_096;

    private static int liveWorkers;

    private readonly object gate = new();
    private readonly long[] workerAllocated;    // per worker: bytes its thread allocated since it started
    private ITeamJob? job;
    private int generation;
    private int running;
    private int sleepers;
    private bool stopped;
    private System.Runtime.ExceptionServices.ExceptionDispatchInfo? failure; // the run's first exception

    // Barrier: sense-reversing, so it can be reused immediately.
    private int arrived;
    private int sense;

    // Contention: waits that outlasted the spin in the current run, and how many runs stay on the caller.
    private int slowWaits;
    private int backoff;
    private int aloneRunsLeft;

    public Crew(int size)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        Size = size;
        workerAllocated = new long[size - 1];
        for (int i = 0; i < size - 1; i++)
        {
            int member = i + 1;
            Interlocked.Increment(ref liveWorkers);
            new Thread(() => Work(member)) { IsBackground = true, Name = $"lstm team {member}/{size}" }.Start();
        }
    }

    public static int LiveWorkers => Volatile.Read(ref liveWorkers);

    public int Size { get; }

    public long AloneRuns { get; private set; }

    public long WorkerAllocatedBytes
    {
        get
        {
            long sum = 0;
            for (int i = 0; i < workerAllocated.Length; i++) sum += Volatile.Read(ref workerAllocated[i]);
            return sum;
        }
    }

    public void Run(ITeamJob work)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref stopped), typeof(Team)); // its workers are gone: a run would wait for ever
        bool alone = Team.ForceParallel is { } force ? !force : aloneRunsLeft > 0;
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
        RunMember(work, 0);
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
        Interlocked.Exchange(ref failure, null)?.Throw();
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

    /// <summary>Lets the workers end: sleeping ones are woken, spinning ones see it at their next spin. Idempotent.</summary>
    public void Stop()
    {
        lock (gate)
        {
            Volatile.Write(ref stopped, true);
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

    // Every member passes every barrier, even after a failure (its own or another's): a member that left early would
    // leave the others waiting for it for ever. After a failure the remaining work is skipped, since it may read what
    // the failed part did not write.
    private void RunMember(ITeamJob work, int member)
    {
        int phases = work.Phases;
        for (int phase = 0; phase < phases; phase++)
        {
            if (Volatile.Read(ref failure) is null)
            {
                try
                {
                    work.Run(member, phase);
                }
                catch (Exception e)
                {
                    Interlocked.CompareExchange(ref failure, System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e), null);
                }
            }
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
        long allocatedAtStart = GC.GetAllocatedBytesForCurrentThread();
        try
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
                            while (Volatile.Read(ref generation) == seen && !stopped)
                            {
                                Monitor.Wait(gate);
                            }
                            Interlocked.Decrement(ref sleepers);
                        }
                    }
                    if (Volatile.Read(ref stopped))
                    {
                        return;
                    }
                }
                seen = Volatile.Read(ref generation);
                try
                {
                    RunMember(job!, member);
                }
                finally
                {
                    // Published before the run counts as finished, so the caller reads it up to date after Run.
                    Volatile.Write(ref workerAllocated[member - 1], GC.GetAllocatedBytesForCurrentThread() - allocatedAtStart);
                    Interlocked.Decrement(ref running);
                }
            }
        }
        finally
        {
            Interlocked.Decrement(ref liveWorkers);
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
