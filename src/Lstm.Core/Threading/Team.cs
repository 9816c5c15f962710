namespace Lstm.Core.Threading;

/// <summary>
/// Work split into phases, each phase into <c>Size</c> shares that touch disjoint data; every share of a phase ends
/// before any share of the next begins. So the same job can run in parallel (shares on several threads) or on the
/// calling thread alone (share 0, 1, ... of phase 0, then of phase 1, ...) with identical results, whichever thread
/// runs which share.
/// </summary>
internal interface ITeamJob
{
    int Phases { get; }

    void Run(int member, int phase);
}

/// <summary>
/// The calling thread (share 0 of every phase) plus <c>Size - 1</c> dedicated workers (see <see cref="Crew"/>).
/// This handle is what owners hold; the workers hold only the crew, so an owner dropped without <see cref="Dispose"/>
/// becomes garbage, and this handle's finalizer stops the workers.
/// </summary>
internal sealed class Team : IDisposable
{
    private readonly Crew crew;

    public Team(int size) => crew = new Crew(size);

    ~Team() => crew.Stop();

    public int Size => crew.Size;

    /// <summary>
    /// Tests pin the mode on their thread: null decides (a worker that is late gets its share taken; contention sends
    /// runs to the calling thread for a while), true strictly parallel (member j runs share j, the caller waits for
    /// it), false always alone.
    /// </summary>
    [ThreadStatic]
    internal static bool? ForceParallel;

    /// <summary>Tests: decide as in production, but run in parallel even while <see cref="Contention"/> says alone.</summary>
    [ThreadStatic]
    internal static bool IgnoreContention;

    /// <summary>
    /// True when a run would go to the calling thread alone for <see cref="Contention"/>: callers that have a
    /// one-thread code path of their own then take it.
    /// </summary>
    internal static bool PrefersAlone => ForceParallel is null && !IgnoreContention && Contention.Active;

    /// <summary>Runs so far on the calling thread alone because of contention (for tests and diagnostics).</summary>
    public long AloneRuns => crew.AloneRuns;

    /// <summary>Shares the calling thread took over from a worker that had not started them (for tests and diagnostics).</summary>
    public long TakenShares => crew.TakenShares;

    /// <summary>Tests: workers claim no share while set, as if the scheduler never ran them.</summary>
    internal bool HoldWorkers
    {
        get => crew.HoldWorkers;
        set => crew.HoldWorkers = value;
    }

    /// <summary>Bytes the workers' threads have allocated since they started (the caller's are its own to count).</summary>
    internal long WorkerAllocatedBytes => crew.WorkerAllocatedBytes;

    /// <summary>Worker threads of every team in the process that have not ended yet.</summary>
    internal static int LiveWorkers => Crew.LiveWorkers;

    /// <summary>
    /// Runs <paramref name="work"/> and returns when every share has run. If a share throws, the rest of the job is
    /// skipped, and the first exception is rethrown here with its original stack trace; the team stays usable.
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
