namespace Lstm.Core.Threading;

/// <summary>One member's share of a team's job: member 0 is the calling thread.</summary>
internal interface ITeamJob
{
    void Run(int member, Team team);
}

/// <summary>
/// The calling thread plus <c>Size - 1</c> dedicated workers that run one job at a time, with a barrier for the
/// phases inside a job (one per layer and step). Waiting spins briefly, then yields, then (idle workers only) blocks:
/// if another process takes a core, a spinning member gives it up instead of burning it, and idle workers cost
/// nothing between calls. Not reentrant: one job at a time, from one calling thread. A job must not throw between
/// barriers (the others would wait for it): jobs validate everything before the team starts.
/// </summary>
internal sealed class Team : IDisposable
{
    private const int SpinIterations = 4_000;   // ~20-50 µs of pause instructions before yielding the core
    private const int YieldIterations = 2_000;  // then ~1 ms of Thread.Yield before an idle worker blocks

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

    /// <summary>Runs <paramref name="work"/> on every member and returns when all have finished.</summary>
    public void Run(ITeamJob work)
    {
        if (Size == 1)
        {
            work.Run(0, this);
            return;
        }
        job = work;
        Volatile.Write(ref running, Size - 1);
        Interlocked.Increment(ref generation);
        if (Volatile.Read(ref sleepers) > 0)
        {
            lock (gate) Monitor.PulseAll(gate);
        }
        Exception? failure = null;
        try
        {
            work.Run(0, this);
        }
        catch (Exception e)
        {
            failure = e;
        }
        WaitUntil(static t => Volatile.Read(ref t.running) == 0, this);
        job = null;
        failure ??= Interlocked.Exchange(ref workerFailure, null);
        if (failure is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
        }
    }

    /// <summary>Every member waits here until all have arrived.</summary>
    public void Barrier()
    {
        if (Size == 1)
        {
            return;
        }
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
    }

    public void Dispose()
    {
        lock (gate)
        {
            disposed = true;
            Monitor.PulseAll(gate);
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
                        sleepers++;
                        while (Volatile.Read(ref generation) == seen && !disposed)
                        {
                            Monitor.Wait(gate);
                        }
                        sleepers--;
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
                job!.Run(member, this);
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

    private static void WaitUntil(Func<Team, bool> done, Team team)
    {
        var spinner = new Spinner();
        while (!done(team))
        {
            spinner.Spin();
        }
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
