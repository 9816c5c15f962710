using Lstm.Simd;

namespace Lstm.Core.Threading;

/// <summary>
/// A stream whose every step is shared by a team: member j owns hidden units [Start_j, Start_j + Count_j) of every
/// layer, their weight rows (kept in its core's cache) and their cell state. Per layer (one team phase): gates_j =
/// x·W_ih,jᵀ + b_j + h_{t-1}·W_hh,jᵀ and the fused cell on those units; a barrier follows, because the next layer
/// and the next step read all of h (a GRU with linear_before_reset = 0 takes two phases per layer: its candidate GEMM
/// reads all of r⊙h'). h is double-buffered ([2, B, H], by step parity) since members write h_t while others still read
/// h_{t-1}.
/// </summary>
internal sealed class SplitStream : ITeamJob, IDisposable
{
    private readonly RecurrentNetwork net;
    private readonly Team team;
    private readonly float[] x;         // [B, I]: the step's input, copied in
    private readonly float[][] h;       // [L][2, B, H]
    private readonly float[][][] c;     // [L][member][2, B, Count]
    private readonly float[][][] gates; // [L][member][B, G·Count]
    private readonly float[][] cellView; // [L][B, H]: c gathered for StreamState.Cell
    private readonly float[][] resetAll; // [L][B, H]: r⊙h' of every unit (GRU, linear_before_reset = 0)

    public SplitStream(RecurrentNetwork net, int batch, int threads)
    {
        this.net = net;
        RecurrentOptions o = net.Options;
        Batch = batch;
        int parts = net.Packed(0, 0).Slices(threads).Length;
        team = new Team(parts);
        x = new float[batch * o.InputSize];
        h = new float[o.Layers][];
        c = new float[o.Layers][][];
        gates = new float[o.Layers][][];
        cellView = new float[o.Layers][];
        resetAll = new float[o.Layers][];
        for (int l = 0; l < o.Layers; l++)
        {
            HiddenSlice[] slices = net.Packed(l, 0).Slices(parts);
            h[l] = new float[2 * batch * o.HiddenSize];
            c[l] = slices.Select(s => new float[o.Cell == CellKind.Lstm ? 2 * batch * s.Count : 0]).ToArray();
            gates[l] = slices.Select(s => new float[batch * o.Gates * s.Count * (o.Cell == CellKind.Gru ? 2 : 1) + (TwoHalves ? batch * s.Count : 0)]).ToArray(); // GRU: + the recurrent product (+ own r⊙h')
            resetAll[l] = new float[TwoHalves ? batch * o.HiddenSize : 0];
            cellView[l] = new float[o.Cell == CellKind.Lstm ? batch * o.HiddenSize : 0];
        }
    }

    public int Batch { get; }

    public int Threads => team.Size;

    public long WorkerAllocatedBytes => team.WorkerAllocatedBytes;

    public long Steps { get; set; }

    public void Step(ReadOnlySpan<float> input, Span<float> y)
    {
        input.CopyTo(x);
        team.Run(this);
        Steps++;
        Hidden(net.Options.Layers - 1).CopyTo(y);
    }

    // A GRU with linear_before_reset = 0 reads all of r⊙h' in its candidate GEMM: two phases per layer.
    private bool TwoHalves => net.Options.Cell == CellKind.Gru && !net.Options.LinearBeforeReset;

    public int Phases => net.Options.Layers * (TwoHalves ? 2 : 1);

    // Phase l: this member's units of layer l (the next layer reads all of h, hence a barrier between layers).
    public void Run(int member, int phase)
    {
        RecurrentOptions o = net.Options;
        int l = TwoHalves ? phase / 2 : phase;
        int b = Batch, hs = o.HiddenSize, now = (int)(Steps & 1), next = 1 - now;
        HiddenSlice s = net.Packed(l, 0).Slices(team.Size)[member];
        ReadOnlySpan<float> input = l == 0 ? x : h[l - 1].AsSpan(next * b * hs, b * hs);
        Span<float> g = gates[l][member];
        Span<float> hNext = h[l].AsSpan((next * b * hs) + s.Start);
        int gn = o.Gates * s.Count;
        if (TwoHalves)
        {
            Span<float> hidden = g.Slice(b * gn, b * gn);
            ReadOnlySpan<float> hPrev = h[l].AsSpan(now * b * hs, b * hs);
            if (phase % 2 == 1)
            {
                GruPass.SliceCandidate(s, b, hs, hPrev, hs, g[..(b * gn)], hidden, resetAll[l], hNext, hs, net.Path);
                return;
            }
            s.InputWeights.Multiply(input, b, s.InputWeights.Columns, g, gn, accumulate: false, net.Path);       // G_j = x·W_ih,jᵀ + b_j
            GruPass.SliceResetGates(s, b, hs, hPrev, hs, g[..(b * gn)], hidden, g.Slice(2 * b * gn, b * s.Count), resetAll[l], net.Path);
            return;
        }
        s.InputWeights.Multiply(input, b, s.InputWeights.Columns, g, gn, accumulate: false, net.Path);           // G_j = x·W_ih,jᵀ + b_j
        if (o.Cell == CellKind.Gru)
        {
            Span<float> hidden = g.Slice(b * gn, b * gn);
            ReadOnlySpan<float> hPrev = h[l].AsSpan(now * b * hs, b * hs);
            s.RecurrentWeights.Multiply(hPrev, b, hs, hidden, gn, accumulate: false, net.Path);                // H_j = h'·W_hh,jᵀ
            GruCell.Forward(g[..(b * gn)], hidden, s.HiddenBias, b, s.Count, hPrev[s.Start..], hs, hNext[..Math.Max(0, ((b - 1) * hs) + s.Count)], hs, default, net.Path);
            return;
        }
        s.RecurrentWeights.Multiply(h[l].AsSpan(now * b * hs, b * hs), b, hs, g, gn, accumulate: true, net.Path); // G_j += h_{t-1}·W_hh,jᵀ
        if (o.Cell == CellKind.Lstm)
        {
            float[] cj = c[l][member];
            LstmCell.Forward(g, b, s.Count, cj.AsSpan(now * b * s.Count, b * s.Count), cj.AsSpan(next * b * s.Count, b * s.Count),
                hNext, hs, o.CellOptions, s.Peepholes, net.Path);
        }
        else
        {
            for (int r = 0; r < b; r++)
            {
                RnnCell.Forward(g.Slice(r * s.Count, s.Count), hNext.Slice(r * hs, s.Count), net.Path);
            }
        }
    }

    /// <summary>h of a layer after the last step, [B, H].</summary>
    public ReadOnlySpan<float> Hidden(int layer) => h[layer].AsSpan((int)(Steps & 1) * Batch * net.Options.HiddenSize, Batch * net.Options.HiddenSize);

    /// <summary>c of a layer after the last step, gathered from the members' slices into [B, H].</summary>
    public ReadOnlySpan<float> Cell(int layer)
    {
        if (cellView[layer].Length == 0)
        {
            return default;
        }
        int b = Batch, hs = net.Options.HiddenSize, now = (int)(Steps & 1);
        HiddenSlice[] slices = net.Packed(layer, 0).Slices(team.Size);
        for (int m = 0; m < slices.Length; m++)
        {
            int n = slices[m].Count;
            for (int r = 0; r < b; r++)
            {
                c[layer][m].AsSpan((now * b * n) + (r * n), n).CopyTo(cellView[layer].AsSpan((r * hs) + slices[m].Start));
            }
        }
        return cellView[layer];
    }

    /// <summary>One row of a layer's h and c (empty: zeros), written where the next step reads them.</summary>
    public void WriteRow(int layer, int row, ReadOnlySpan<float> hRow, ReadOnlySpan<float> cRow)
    {
        int b = Batch, hs = net.Options.HiddenSize, now = (int)(Steps & 1);
        StreamState.Fill(h[layer].AsSpan((now * b * hs) + (row * hs), hs), hRow);
        if (cellView[layer].Length == 0)
        {
            return;
        }
        HiddenSlice[] slices = net.Packed(layer, 0).Slices(team.Size);
        for (int m = 0; m < slices.Length; m++)
        {
            int n = slices[m].Count;
            StreamState.Fill(c[layer][m].AsSpan((now * b * n) + (row * n), n), cRow.IsEmpty ? default : cRow.Slice(slices[m].Start, n));
        }
    }

    public void Reset()
    {
        Steps = 0;
        foreach (float[] v in h) Array.Clear(v);
        foreach (float[][] m in c) foreach (float[] v in m) Array.Clear(v);
    }

    public void Dispose() => team.Dispose();
}
