using Lstm.Core.Threading;

namespace Lstm.Core;

public sealed partial class RecurrentNetwork : IDisposable
{
    private int threads = 1;
    private Team? idleTeam;
    private int disposed;

    internal bool IsDisposed => Volatile.Read(ref disposed) != 0;

    /// <summary>
    /// Threads for <see cref="Forward(ReadOnlySpan{float}, int, int, ReadOnlySpan{float}, ReadOnlySpan{float})"/>: the calling thread plus <c>Threads - 1</c> workers the network keeps (idle
    /// ones block; <see cref="Dispose"/> stops them). Small batches split the hidden units, so that each core keeps its
    /// slice of the weights in its own cache (when H ≥ <see cref="MinUnitsPerThread"/> × Threads; smaller layers run on
    /// the calling thread); batches of 16 rows per thread and more split the rows, for <see cref="ForwardTraining(ReadOnlySpan{float}, int, int, ReadOnlySpan{float}, ReadOnlySpan{float}, float, Training.SeededRandom)"/>
    /// and <see cref="Backward(TrainingTrace, ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, ParameterSet)"/> too (without peepholes, whose gradient sums over rows). Below that, <see cref="Backward(TrainingTrace, ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, ParameterSet)"/>
    /// and both training forward passes split the hidden units when H ≥ <see cref="MinUnitsPerThread"/> × Threads
    /// (one barrier per step). A maximum: a worker that is late gets its share run by the calling thread, and while
    /// another process holds a core every pass stays on the calling thread (<c>Threading.Contention</c>). Results are
    /// bitwise the same for every count. <see cref="CheckFinite"/> runs on the calling thread; streams take their own count in
    /// <see cref="CreateStream"/>. Set it before sharing the network.
    /// </summary>
    public int Threads
    {
        get => threads;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, 256);
            ObjectDisposedException.ThrowIf(IsDisposed, this);
            threads = value;
            Interlocked.Exchange(ref idleTeam, null)?.Dispose();
        }
    }

    /// <summary>
    /// Stops the worker threads <see cref="Threads"/> started (a network dropped without it has them stopped by the
    /// garbage collector's finalizer). Afterwards running the network (<c>Forward</c>, <see cref="ForwardTraining(ReadOnlySpan{float}, int, int, ReadOnlySpan{float}, ReadOnlySpan{float}, float, Training.SeededRandom)"/>,
    /// <see cref="Backward(TrainingTrace, ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, ParameterSet)"/>, <see cref="Step(StreamState, ReadOnlySpan{float}, Span{float})"/>), <see cref="CreateStream"/> and setting <see cref="Threads"/> throw
    /// <see cref="ObjectDisposedException"/>; its options and parameters can still be read. Disposing twice is fine.
    /// </summary>
    public void Dispose()
    {
        Volatile.Write(ref disposed, 1);
        Interlocked.Exchange(ref idleTeam, null)?.Dispose();
    }

    // One team is kept; a concurrent call gets a fresh one, disposed afterwards.
    private Team TryTeam() => Interlocked.Exchange(ref idleTeam, null) is { } t && t.Size == threads ? t : new Team(threads);

    private void ReturnTeam(Team team)
    {
        if (team.Size != threads || Interlocked.CompareExchange(ref idleTeam, team, null) is not null)
        {
            team.Dispose();
        }
        else if (IsDisposed) // Dispose ran during this call: it may have missed the team just kept
        {
            Interlocked.Exchange(ref idleTeam, null)?.Dispose();
        }
    }

    private void ForwardOnTeam(Team team, int layer, int dir, int steps, int batch, float[] input, float[] y, float[] gates, float[] cells,
        float[] h0, float[] c0, float[] hn, float[] cn, int stateOffset, bool training)
    {
        PackedLayer w = Packed(layer, dir);
        var job = new SplitSequence
        {
            O = Options, Layer = w, Dir = dir, Steps = steps, Batch = batch, X = input, Y = y, Gates = gates, C = cells,
            H0 = h0, C0 = c0, Hn = hn, Cn = cn, StateOffset = stateOffset, Path = KernelPath, KeepAllC = training,
        };
        SplitSequence.Forward(team, job);
    }

    /// <summary>
    /// Below this many hidden units per thread, a per-step barrier costs more than the split saves (measured: H = 64
    /// on 2 threads ran 2.7× slower than on one), so small layers with small batches stay on the calling thread.
    /// </summary>
    public const int MinUnitsPerThread = 64;

    // Rows split for any H; units split (inference only) when every thread gets a slice worth a barrier per step.
    private bool CanSplit(int layer, int dir, int batch, bool training) =>
        batch >= SplitSequence.RowsPerMemberForBatchSplit * threads
        || (!training && Options.HiddenSize >= MinUnitsPerThread * threads && Packed(layer, dir).Slices(threads).Length == threads);
}
