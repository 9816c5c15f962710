using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;

namespace Lstm.Core.Threading;

/// <summary>
/// The workers of a <see cref="Team"/> and how a run is shared among them. Each share of each phase is claimed once,
/// by an atomic compare-and-swap on its slot: the calling thread claims share 0, worker j share j. The caller never
/// waits for a share nobody has started: once its own share is done, it gives a late worker
/// <see cref="GraceTicks"/> and then claims and runs that share itself. It waits only for shares a worker is running.
/// A worker that has claimed nothing for <see cref="AbsentTicks"/>, or a wait for a started share longer than that plus
/// an eighth of the caller's own share (or a worker's wait for the caller's share, likewise), means the scheduler took the worker's core: the caller then claims every share left in
/// the run, and reports <see cref="Contention"/>, so that runs stay on their calling threads for a while and idle
/// workers block at once instead of spinning against the load. Waiting workers spin briefly, then yield, then block.
/// Not reentrant: one run at a time, from one calling thread. Holds no reference to its owner, nor to a job after its
/// run.
/// </summary>
internal sealed class Crew
{
    private const int SpinIterations = 4_000;   // ~20-50 µs of pause instructions before yielding the core
    private const int YieldIterations = 2_000;  // then ~1 ms of Thread.Yield before an idle worker blocks
    private const int Stride = 16;              // longs between two shares' claim slots: one 128-byte line each

    /// <summary>
    /// How long a worker may take to claim its share after the caller finished its own: a worker that is spinning
    /// claims within a microsecond of the run's start, so one that has not in 5 µs is not running.
    /// </summary>
    private static readonly long GraceTicks = Contention.Ticks(TimeSpan.FromMicroseconds(5));

    /// <summary>
    /// How long a worker may be away before it counts as descheduled: a worker that lost its core to another process
    /// is away for a scheduler slice (milliseconds), while this VM's own hiccups (a vCPU held by the host for tens to
    /// hundreds of µs) are shorter and cost less than the 10 ms alone that a report costs. (At 50 µs, idle runs
    /// reported so often that the window grew to a second and H = 128–512 lost their 2-thread gain in one run of three.)
    /// A wait for a started share counts when it outlasts this plus an eighth of the waiting thread's own share (shares
    /// of a phase are equal work; measured idle, rows split at B = 64 ran within a few percent of each other; at a half,
    /// a loaded B = 64 sequence ran 1.14–1.17× slower on 2 threads than on one and never reported).
    /// </summary>
    private static readonly long AbsentTicks = Contention.Ticks(TimeSpan.FromMilliseconds(1));

    private static int liveWorkers;

    private readonly object gate = new();
    private readonly long[] workerAllocated;    // per worker: bytes its thread allocated since it started
    private readonly long[] claims;             // [Size · Stride]: the phase number + 1 a share was last claimed in
    private long completed;                     // shares run to the end, over all parallel runs: phase p is done at (p + 1) · Size
    private long nextPhase;                     // the first phase number of the next parallel run (caller only)
    private long absentSince;                   // when the caller first took a share from an awake worker that has claimed none since (0: none)
    private int sleepers;
    private int ready;                          // workers that have run a share (their thread started, their code compiled)
    private bool stopped;
    private ExceptionDispatchInfo? failure;     // the run's first exception

    // The run, published under a sequence lock: generation is odd while these change.
    private int generation;
    private ITeamJob? job;
    private long runFirstPhase;
    private int runPhases;
    private bool runStrict;

    public Crew(int size)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        Size = size;
        workerAllocated = new long[size - 1];
        claims = new long[size * Stride];
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

    public long TakenShares { get; private set; }

    public bool HoldWorkers { get; set; }

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
        ObjectDisposedException.ThrowIf(Volatile.Read(ref stopped), typeof(Team)); // its workers are gone
        if (work.Phases < 0)
        {
            // Phase numbers would run backwards into claimed ones, and the next run's shares would count as done unrun.
            throw new ArgumentException($"The job has {work.Phases} phases; expected 0 or more.", nameof(work));
        }
        bool? force = Team.ForceParallel;
        if (Size == 1 || force == false)
        {
            RunAlone(work);
            return;
        }
        if (Team.PrefersAlone)
        {
            AloneRuns++;
            RunAlone(work);
            return;
        }
        int phases = work.Phases;
        if (phases == 0)
        {
            return;
        }
        bool strict = force == true;
        // A worker that is waking up (or has not run its first share: thread start, JIT) is late by up to a
        // millisecond: not contention.
        bool wasAsleep = Volatile.Read(ref sleepers) > 0 || Volatile.Read(ref ready) < Size - 1;
        long first = nextPhase;
        nextPhase = first + phases;
        Interlocked.Increment(ref generation); // odd: publishing
        job = work;
        runFirstPhase = first;
        runPhases = phases;
        runStrict = strict;
        Interlocked.Increment(ref generation); // even: published
        // A worker counts itself asleep (Interlocked) before it reads the generation, so either it sees the new one or
        // this sees it and wakes it. No wake-up is lost. One that fell asleep since the read above wakes late too.
        if (Volatile.Read(ref sleepers) > 0)
        {
            wasAsleep = true;
            lock (gate) Monitor.PulseAll(gate);
        }
        bool greedy = false;
        try
        {
            for (int phase = 0; phase < phases; phase++)
            {
                long number = first + phase;
                long started = Stopwatch.GetTimestamp();
                Claim(0, number);
                RunShare(work, 0, phase, member: 0);
                for (int share = 1; share < Size && !strict; share++)
                {
                    if (TakeIfLate(work, share, phase, number, greedy) && !wasAsleep && !greedy && Stopwatch.GetTimestamp() - absentSince > AbsentTicks)
                    {
                        greedy = true; // a worker that has not run for a millisecond: take the rest of the run
                        ReportContention();
                    }
                }
                if (Volatile.Read(ref completed) >= (number + 1) * Size)
                {
                    continue; // the workers were done first: no clock read (a streaming step's phase is ~1 µs)
                }
                long waitFrom = Stopwatch.GetTimestamp(), own = waitFrom - started;
                var spinner = new Spinner();
                while (Volatile.Read(ref completed) < (number + 1) * Size)
                {
                    if (strict && Volatile.Read(ref stopped))
                    {
                        TakeUnclaimed(work, phase, number); // a stopped worker claims no more shares
                    }
                    spinner.Spin();
                }
                if (!strict && !greedy && Stopwatch.GetTimestamp() - waitFrom > AbsentTicks + (own / 8))
                {
                    greedy = true; // a worker was descheduled mid-share
                    ReportContention();
                }
            }
        }
        finally
        {
            job = null; // a late worker that read the run still holds it; no new reader can
        }
        Interlocked.Exchange(ref failure, null)?.Throw();
    }

    // Workers that Stop (Dispose) ended mid-run are late by our own doing, not the scheduler's: no process-wide report.
    private void ReportContention()
    {
        if (!Volatile.Read(ref stopped))
        {
            Contention.Report();
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

    // The caller's turn at a worker's share: wait up to the grace (none when greedy) for the worker to claim it, then
    // claim and run it here. True when the caller ran it.
    private bool TakeIfLate(ITeamJob work, int share, int phase, long number, bool greedy)
    {
        if (Volatile.Read(ref claims[share * Stride]) > number)
        {
            absentSince = 0;
            return false; // the worker has it (the common case: no clock read)
        }
        long from = Stopwatch.GetTimestamp();
        while (!greedy && Volatile.Read(ref claims[share * Stride]) <= number)
        {
            if (Stopwatch.GetTimestamp() - from > GraceTicks)
            {
                break;
            }
            Thread.SpinWait(1);
        }
        if (!TryClaim(share, number))
        {
            absentSince = 0;
            return false;
        }
        if (absentSince == 0)
        {
            absentSince = from;
        }
        TakenShares++;
        RunShare(work, share, phase, member: 0);
        return true;
    }

    // Stop (Dispose, or the finalizer) during a strict run: the workers end without their shares, so the caller runs them.
    private void TakeUnclaimed(ITeamJob work, int phase, long number)
    {
        for (int share = 1; share < Size; share++)
        {
            TakeIfLate(work, share, phase, number, greedy: true);
        }
    }

    private bool TryClaim(int share, long number)
    {
        ref long slot = ref claims[share * Stride];
        long seen = Volatile.Read(ref slot);
        return seen <= number && Interlocked.CompareExchange(ref slot, number + 1, seen) == seen;
    }

    private void Claim(int share, long number) => Volatile.Write(ref claims[share * Stride], number + 1); // share 0: the caller's alone

    // After a failure the rest of the run is skipped (it may read what the failed share did not write), but every
    // claimed share still counts as completed, or the run would wait for it for ever.
    private void RunShare(ITeamJob work, int share, int phase, int member)
    {
        try
        {
            if (Volatile.Read(ref failure) is null)
            {
                work.Run(share, phase);
            }
        }
        catch (Exception e)
        {
            Interlocked.CompareExchange(ref failure, ExceptionDispatchInfo.Capture(e), null);
        }
        finally
        {
            if (member > 0)
            {
                // Published before the share counts as done, so the caller reads it up to date after Run.
                Volatile.Write(ref workerAllocated[member - 1], GC.GetAllocatedBytesForCurrentThread() - workerStartBytes);
            }
            Interlocked.Increment(ref completed);
        }
    }

    [ThreadStatic]
    private static long workerStartBytes;

    private void Work(int member)
    {
        workerStartBytes = GC.GetAllocatedBytesForCurrentThread();
        try
        {
            int seen = 0;
            bool counted = false;
            while (true)
            {
                if (!WaitForRun(seen))
                {
                    return;
                }
                int g = Volatile.Read(ref generation);
                if ((g & 1) != 0)
                {
                    Thread.SpinWait(1); // being published (a caller preempted mid-publication must get its core back)
                    continue;
                }
                if (!TryRunPublished(member, g, out bool ran))
                {
                    continue;
                }
                seen = g;
                if (ran && !counted)
                {
                    counted = true;
                    Interlocked.Increment(ref ready);
                }
            }
        }
        finally
        {
            Interlocked.Decrement(ref liveWorkers);
        }
    }

    // Reads run g and runs this worker's shares of it; false if the run changed while it was read. The job is held
    // only in this frame, which returns before the worker waits: the JIT may report a local live to its method's end
    // (it did: a job read in the waiting loop kept an owner's Team alive for ever, and a Team dropped without Dispose
    // was never finalized). The field reads are acquires, so none of them moves after the generation's second read (a
    // plain read may, on Arm64, and pair one run's job with another's phase numbers).
    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool TryRunPublished(int member, int g, out bool ran)
    {
        ITeamJob? work = Volatile.Read(ref job);
        long first = Volatile.Read(ref runFirstPhase);
        int phases = Volatile.Read(ref runPhases);
        bool strict = Volatile.Read(ref runStrict);
        ran = false;
        if (Volatile.Read(ref generation) != g)
        {
            return false;
        }
        ran = work is not null && RunPhases(work, member, first, phases, strict, g);
        return true;
    }

    // This worker's share of every phase of a run it read, each once the phase before it is done. A run that ended
    // meanwhile has every share claimed already, so a late worker claims nothing and only runs through.
    // A worker that ran its share of a phase and then waits for the caller's far longer than it took reports
    // contention too: the scheduler may as well have taken the caller's core (three threads on two cores), and the
    // caller cannot see that itself.
    private bool RunPhases(ITeamJob work, int member, long first, int phases, bool strict, int g)
    {
        bool ran = false;
        long ownEnd = 0, own = 0; // when this worker's share of the phase before ended, and how long it took (0: it ran none)
        for (int phase = 0; phase < phases; phase++)
        {
            long number = first + phase;
            var spinner = new Spinner();
            while (Volatile.Read(ref completed) < number * Size)
            {
                if (Volatile.Read(ref generation) != g || Volatile.Read(ref stopped))
                {
                    return ran; // the caller took the rest and moved on
                }
                spinner.Spin();
            }
            if (ownEnd != 0 && !strict && Stopwatch.GetTimestamp() - ownEnd > AbsentTicks + (own / 8))
            {
                ReportContention();
            }
            ownEnd = 0;
            if (HoldWorkers && !strict)
            {
                continue;
            }
            if (TryClaim(member, number))
            {
                long started = Stopwatch.GetTimestamp();
                RunShare(work, member, phase, member);
                ran = true;
                ownEnd = Stopwatch.GetTimestamp();
                own = ownEnd - started;
            }
        }
        return ran;
    }

    // Spin, then yield, then block until the generation moves past `seen`; while contention is reported, block at once
    // (a spinning worker would take time from the load and from the caller). False once stopped.
    private bool WaitForRun(int seen)
    {
        var spinner = new Spinner();
        while (Volatile.Read(ref generation) == seen)
        {
            if (!spinner.Spin() || Contention.Active)
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
                spinner = new Spinner();
            }
            if (Volatile.Read(ref stopped))
            {
                return false;
            }
        }
        return !Volatile.Read(ref stopped);
    }

    /// <summary>Spin, then yield; <see cref="Spin"/> returns false once yielding has gone on long enough to block.</summary>
    private struct Spinner
    {
        private int count;

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
