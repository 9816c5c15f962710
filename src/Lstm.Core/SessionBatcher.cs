using System.Diagnostics;

namespace Lstm.Core;

/// <summary>
/// Steps sessions of a <see cref="SessionHost"/> on behalf of many threads, batching the requests that arrive close
/// together into one step. No thread of its own (flat combining): a caller whose request is pending becomes the
/// leader if no step is running, waits up to <see cref="Window"/> for the other open sessions' requests, steps all
/// pending requests as one, and hands each caller its output; the others wait on their own event. Allocates nothing
/// per step. Each session's outputs are bitwise those of stepping it alone, whoever shares its steps.
/// </summary>
public sealed class SessionBatcher : IDisposable
{
    private const int Idle = 0, Submitted = 1, Done = 2;
    private readonly SessionHost host;
    private readonly object gate = new();
    private readonly int inputSize, hiddenSize;
    private readonly float[] inputs, outputs, batchX, batchY;   // [capacity, I], [capacity, H] by slot; the step's rows
    private readonly int[] status, submittedGeneration, submittedHost;
    private readonly Exception?[] errors;
    private readonly ManualResetEventSlim[] events;
    private readonly Session[] batch;
    private int pending;

    /// <summary>Batches the steps of <paramref name="host"/>'s sessions; <paramref name="window"/> is the longest a step waits for more requests.</summary>
    public SessionBatcher(SessionHost host, TimeSpan window)
    {
        ArgumentNullException.ThrowIfNull(host);
        ArgumentOutOfRangeException.ThrowIfLessThan(window, TimeSpan.Zero);
        this.host = host;
        Window = window;
        int n = host.Capacity;
        inputSize = host.Network.Options.InputSize;
        hiddenSize = host.Network.Options.HiddenStateSize; // the width of y: P with projections
        inputs = new float[n * inputSize];
        batchX = new float[n * inputSize];
        outputs = new float[n * hiddenSize];
        batchY = new float[n * hiddenSize];
        status = new int[n];
        submittedGeneration = new int[n];
        submittedHost = new int[n];
        errors = new Exception?[n];
        batch = new Session[n];
        events = Enumerable.Range(0, n).Select(_ => new ManualResetEventSlim(false, spinCount: 200)).ToArray();
    }

    /// <summary>How long a step waits, at most, for requests of the open sessions that have not asked yet.</summary>
    public TimeSpan Window { get; }

    /// <summary>Opens a session (between steps).</summary>
    public Session Open()
    {
        lock (gate)
        {
            return host.Open();
        }
    }

    /// <summary>Closes a session (between steps).</summary>
    public void Close(Session session)
    {
        lock (gate)
        {
            host.Close(session);
        }
    }

    /// <summary>
    /// One step of <paramref name="session"/>: <paramref name="x"/> <c>[I]</c> in, <paramref name="y"/> <c>[H]</c> out.
    /// Thread-safe across sessions; one session is stepped by one thread at a time.
    /// </summary>
    public void Step(Session session, ReadOnlySpan<float> x, Span<float> y)
    {
        if (!host.IsOpen(session))
        {
            throw new ArgumentException($"session: session {session.Slot} is not open in this host.", nameof(session));
        }
        ShapeCheck.Exact(x, nameof(x), inputSize);
        ShapeCheck.Exact(y, nameof(y), hiddenSize);
        int slot = session.Slot;
        if (Interlocked.CompareExchange(ref status[slot], -1, Idle) != Idle)
        {
            throw new InvalidOperationException($"session {slot} is already being stepped by another thread.");
        }
        x.CopyTo(inputs.AsSpan(slot * inputSize, inputSize));
        submittedGeneration[slot] = session.Generation;
        submittedHost[slot] = session.Host;
        errors[slot] = null;
        ManualResetEventSlim ready = events[slot];
        ready.Reset();
        Volatile.Write(ref status[slot], Submitted);
        Interlocked.Increment(ref pending);
        while (Volatile.Read(ref status[slot]) != Done)
        {
            if (Monitor.TryEnter(gate))
            {
                try
                {
                    if (Volatile.Read(ref status[slot]) != Done)
                    {
                        Lead();
                    }
                }
                finally
                {
                    Monitor.Exit(gate);
                }
                WakeWaiting();
                continue;
            }
            ready.Wait();
            ready.Reset();
        }
        Exception? error = errors[slot];
        if (error is null)
        {
            outputs.AsSpan(slot * hiddenSize, hiddenSize).CopyTo(y);
        }
        Volatile.Write(ref status[slot], Idle);
        if (error is not null)
        {
            throw new InvalidOperationException($"The batched step of session {slot} failed: {error.Message}", error);
        }
    }

    // Under the gate: wait for the window, take every pending request, step them as one, hand out the outputs.
    private void Lead()
    {
        long start = Stopwatch.GetTimestamp();
        var spin = default(SpinWait);
        while (Volatile.Read(ref pending) < host.OpenCount && Stopwatch.GetElapsedTime(start) < Window)
        {
            spin.SpinOnce(sleep1Threshold: -1);
        }
        int k = 0;
        for (int slot = 0; slot < status.Length; slot++)
        {
            if (Volatile.Read(ref status[slot]) != Submitted)
            {
                continue;
            }
            var s = new Session(submittedHost[slot], slot, submittedGeneration[slot]);
            if (!host.IsOpen(s))
            {
                errors[slot] = new ArgumentException($"session {slot} was closed before its step ran.");
                Finish(slot);
                continue;
            }
            inputs.AsSpan(slot * inputSize, inputSize).CopyTo(batchX.AsSpan(k * inputSize));
            batch[k++] = s;
        }
        try
        {
            host.Step(batch.AsSpan(0, k), batchX.AsSpan(0, k * inputSize), batchY.AsSpan(0, k * hiddenSize));
            for (int i = 0; i < k; i++)
            {
                batchY.AsSpan(i * hiddenSize, hiddenSize).CopyTo(outputs.AsSpan(batch[i].Slot * hiddenSize));
            }
        }
#pragma warning disable CA1031 // Whatever the step throws goes to every caller whose request it held, rethrown there; none may wait for ever.
        catch (Exception e)
#pragma warning restore CA1031
        {
            for (int i = 0; i < k; i++) errors[batch[i].Slot] = e;
        }
        finally
        {
            for (int i = 0; i < k; i++)
            {
                Finish(batch[i].Slot);
            }
        }
    }

    private void Finish(int slot)
    {
        Interlocked.Decrement(ref pending);
        Volatile.Write(ref status[slot], Done);
        events[slot].Set();
    }

    // After a leader leaves: requests that arrived too late for its step must not wait for ever; one of them leads next.
    private void WakeWaiting()
    {
        if (Volatile.Read(ref pending) == 0)
        {
            return;
        }
        for (int slot = 0; slot < status.Length; slot++)
        {
            if (Volatile.Read(ref status[slot]) == Submitted)
            {
                events[slot].Set();
            }
        }
    }

    /// <summary>Releases the per-session events (not the host).</summary>
    public void Dispose()
    {
        foreach (ManualResetEventSlim e in events) e.Dispose();
    }
}
