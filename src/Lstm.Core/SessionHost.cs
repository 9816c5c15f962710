namespace Lstm.Core;

/// <summary>
/// A handle to one open session of a <see cref="SessionHost"/>: valid in the host that opened it (<paramref name="Host"/>
/// names it), stale once the session is closed.
/// </summary>
public readonly record struct Session(int Host, int Slot, int Generation);

/// <summary>
/// Many independent streams (sessions) of one network, stepped as one: a step takes the inputs of any subset of the
/// open sessions and runs them as one B-row step, so the weights are read once for all of them. Each session's
/// outputs are bitwise the same as stepping it alone (each output is one FMA chain in a fixed order, so it does not
/// depend on which other rows share the step). Opening, closing and stepping allocate nothing.
/// <para>
/// The sessions' h and c live in the rows of one <see cref="StreamState"/>: the open sessions in its first rows, and a
/// step moves the sessions it takes to the front, in the order given (no copy when the same sessions step in the same
/// order every time, as a service that steps all its open sessions does). Not thread-safe: one thread steps a host (see
/// <see cref="SessionBatcher"/> for requests from many threads).
/// </para>
/// </summary>
public sealed class SessionHost : IDisposable
{
    private static int hosts;
    private readonly int id = Interlocked.Increment(ref hosts);
    private readonly RecurrentNetwork network;
    private readonly StreamState state;
    private readonly int[] rowOfSlot, slotOfRow, generation, freeSlots, stamp;
    private int freeCount, stampCounter;

    /// <summary>A host for up to <paramref name="capacity"/> sessions of <paramref name="network"/> (one direction).</summary>
    public SessionHost(RecurrentNetwork network, int capacity)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        this.network = network;
        state = network.CreateStream(capacity);
        rowOfSlot = new int[capacity];
        slotOfRow = new int[capacity];
        generation = new int[capacity];
        stamp = new int[capacity];
        freeSlots = new int[capacity];
        for (int i = 0; i < capacity; i++)
        {
            freeSlots[i] = capacity - 1 - i;
            rowOfSlot[i] = -1;
        }
        freeCount = capacity;
    }

    /// <summary>The most sessions open at once.</summary>
    public int Capacity => rowOfSlot.Length;

    /// <summary>How many sessions are open.</summary>
    public int OpenCount => Capacity - freeCount;

    /// <summary>The network every session runs.</summary>
    public RecurrentNetwork Network => network;

    /// <summary>Opens a session with zero state. Throws <see cref="InvalidOperationException"/> when all <see cref="Capacity"/> are open.</summary>
    public Session Open()
    {
        if (freeCount == 0)
        {
            throw new InvalidOperationException($"All {Capacity} sessions of this host are open; close one first or make a larger host.");
        }
        int slot = freeSlots[--freeCount], row = OpenCount - 1;
        rowOfSlot[slot] = row;
        slotOfRow[row] = slot;
        state.ResetRow(row);
        return new Session(id, slot, generation[slot]);
    }

    /// <summary>Closes a session; its handle is stale from now on.</summary>
    public void Close(Session session)
    {
        int slot = Resolve(session, nameof(session));
        int row = rowOfSlot[slot], last = OpenCount - 1;
        Move(slotOfRow[last], row);      // the last open row takes the closed one's place: open rows stay first
        rowOfSlot[slot] = -1;
        generation[slot]++;
        freeSlots[freeCount++] = slot;
    }

    /// <summary>Whether <paramref name="session"/> is open (its handle is not stale).</summary>
    public bool IsOpen(Session session) =>
        session.Host == id && (uint)session.Slot < (uint)Capacity && rowOfSlot[session.Slot] >= 0 && generation[session.Slot] == session.Generation;

    /// <summary>
    /// One step of the given open sessions, as one B-row step: <paramref name="x"/> <c>[k, I]</c> in, <paramref name="y"/>
    /// <c>[k, H]</c> out, row i for <c>sessions[i]</c>. Each session appears at most once.
    /// </summary>
    public void Step(ReadOnlySpan<Session> sessions, ReadOnlySpan<float> x, Span<float> y)
    {
        int k = sessions.Length;
        if (++stampCounter == int.MaxValue)
        {
            Array.Clear(stamp);
            stampCounter = 1;
        }
        for (int i = 0; i < k; i++)
        {
            int slot = Resolve(sessions[i], nameof(sessions));
            if (stamp[slot] == stampCounter)
            {
                throw new ArgumentException($"sessions[{i}] appears twice in one step.", nameof(sessions));
            }
            stamp[slot] = stampCounter;
        }
        for (int i = 0; i < k; i++)
        {
            int slot = sessions[i].Slot;
            if (rowOfSlot[slot] != i)
            {
                Move(slot, i);
            }
        }
        if (k > 0)
        {
            network.StepRows(state, k, OpenCount, x, y);
        }
        else if (!x.IsEmpty || !y.IsEmpty)
        {
            throw new ArgumentException("No sessions were given, so x and y must be empty.", nameof(x));
        }
    }

    /// <summary>The state of one session: h and c of every layer (<see cref="StreamState.GetRow"/>).</summary>
    public void GetState(Session session, Span<float> h, Span<float> c) => state.GetRow(rowOfSlot[Resolve(session, nameof(session))], h, c);

    /// <summary>Sets one session's state (<see cref="StreamState.SetRow"/>), for example from PyTorch's h0/c0 of that row.</summary>
    public void SetState(Session session, ReadOnlySpan<float> h, ReadOnlySpan<float> c) => state.SetRow(rowOfSlot[Resolve(session, nameof(session))], h, c);

    /// <summary>One session's state as bytes (<see cref="StreamState.ExportRow(int)"/>), to move it to another host or process.</summary>
    public byte[] Export(Session session) => state.ExportRow(rowOfSlot[Resolve(session, nameof(session))]);

    /// <summary>Replaces one session's state with an export of one row (<see cref="StreamState.ImportRow"/>).</summary>
    public void Import(Session session, ReadOnlySpan<byte> data) => state.ImportRow(rowOfSlot[Resolve(session, nameof(session))], data);

    /// <summary>Releases the host's state.</summary>
    public void Dispose() => state.Dispose();

    // Puts the session in `slot` at `row`, swapping with whichever session is there.
    private void Move(int slot, int row)
    {
        int from = rowOfSlot[slot], other = slotOfRow[row];
        if (from == row)
        {
            return;
        }
        state.SwapRows(from, row);
        rowOfSlot[slot] = row;
        slotOfRow[row] = slot;
        rowOfSlot[other] = from;
        slotOfRow[from] = other;
    }

    private int Resolve(Session session, string name)
    {
        if (!IsOpen(session))
        {
            throw new ArgumentException(session.Host == id
                ? $"{name}: session {session.Slot} (generation {session.Generation}) is not open in this host."
                : $"{name}: the session was opened by another host; a session steps only in the host that opened it.", name);
        }
        return session.Slot;
    }
}
