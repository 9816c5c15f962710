using System.Buffers;
using System.Numerics.Tensors;
using Lstm.Simd;

namespace Lstm.Core;

/// <summary>
/// Variable-length batches, as PyTorch runs a packed sequence (ONNX's sequence_lens): the batch rows are sorted by
/// length, longest first, so the rows still running at step t are a prefix [0, alive[t]) and every kernel takes that
/// row count. A forward direction runs each row over its steps [0, length); the reverse direction starts each row at
/// its own last step, from h0 (rows joining at step t are [alive[t+1], alive[t])). Outputs past a row's length are 0;
/// hn and cn are each row's state after its last step (h0 and c0 for a row of length 0). The backward pass mirrors
/// it, and the weight gradients are one GEMM over the Σ lengths live rows gathered in packed order. A GRU step is
/// <see cref="GruPass"/>'s on the live rows, as in the plain pass (both linear_before_reset variants).
/// </summary>
internal static partial class SequencePass
{
    // checkLayer ≥ 0: the finite check, naming the caller's row (rowOrder[sorted row]).
    public static void ForwardPacked(RecurrentOptions o, PackedLayer w, int dir, int steps, int batch, Buffers buf, Span<float> hn, Span<float> cn, SimdPath path,
        int checkLayer = -1, int[]? rowOrder = null)
    {
        int h = o.HiddenSize, gh = o.Gates * h, ldy = o.OutputSize, inSize = w.InputWeights.Columns;
        bool lstm = o.Cell == CellKind.Lstm, gru = o.Cell == CellKind.Gru;
        ReadOnlySpan<int> alive = buf.Alive;
        float[] hPrev = ArrayPool<float>.Shared.Rent(batch * h), cPrev = ArrayPool<float>.Shared.Rent(batch * h);
        float[] gruHidden = gru ? ArrayPool<float>.Shared.Rent(Math.Max(1, batch * gh)) : [];
        try
        {
            for (int t = 0; t < steps; t++) // G = X·W_ihᵀ + b for the live rows of each step only
            {
                w.InputWeights.Multiply(buf.X[(t * batch * inSize)..], alive[t], inSize, buf.Gates[(t * batch * gh)..], gh, accumulate: false, path);
            }
            for (int s = 0; s < steps; s++)
            {
                int t = dir == 0 ? s : steps - 1 - s, tPrev = dir == 0 ? t - 1 : t + 1;
                int n = alive[t], carried = s == 0 ? 0 : Math.Min(n, alive[tPrev]); // rows [carried, n) start here, from h0 and c0
                if (dir == 0 && s > 0)
                {
                    // Rows whose last step was t - 1 end here: their hn and cn, before step t's c overwrites the ping-pong slot.
                    Final(o, buf, t - 1, s - 1, batch, n, alive[t - 1], hn, cn, dir);
                }
                Span<float> yt = buf.Y[(t * batch * ldy)..];
                for (int r = n; r < batch; r++)
                {
                    yt.Slice((r * ldy) + (dir * h), h).Clear(); // past this row's length
                }
                if (n == 0)
                {
                    continue;
                }
                for (int r = 0; r < n; r++)
                {
                    (r < carried ? buf.Y.Slice((((tPrev * batch) + r) * ldy) + (dir * h), h) : buf.H0.Slice(r * h, h)).CopyTo(hPrev.AsSpan(r * h, h));
                    if (lstm)
                    {
                        (r < carried ? CSlot(buf, tPrev, s - 1, batch, r, 1, h) : buf.C0.Slice(r * h, h)).CopyTo(cPrev.AsSpan(r * h, h));
                    }
                }
                Span<float> gt = buf.Gates.Slice(t * batch * gh, n * gh);
                Span<float> ht = yt[(dir * h)..];
                if (gru)
                {
                    // As SequencePass.ForwardSteps runs a GRU, on the n live rows, with h' gathered into hPrev.
                    bool save = buf.KeepAllC || !o.LinearBeforeReset;
                    GruPass.Step(o, w, n, hPrev, h, gt, gruHidden.AsSpan(0, n * gh), save ? CSlot(buf, t, s, batch, 0, n, h) : default, ht, ldy, path);
                }
                else if (lstm)
                {
                    w.RecurrentWeights.Multiply(hPrev, n, h, gt, gh, accumulate: true, path); // G_t += h_{t-1}·W_hhᵀ
                    LstmCell.Forward(gt, n, h, cPrev.AsSpan(0, n * h), CSlot(buf, t, s, batch, 0, n, h), ht, ldy, o.CellOptions, w.Peepholes, path);
                }
                else
                {
                    w.RecurrentWeights.Multiply(hPrev, n, h, gt, gh, accumulate: true, path);
                    for (int r = 0; r < n; r++)
                    {
                        RnnActivation.Forward(o, gt.Slice(r * h, h), ht.Slice(r * ldy, h), path);
                    }
                }
                if (checkLayer >= 0)
                {
                    if (lstm)
                    {
                        new FiniteProbe("c", checkLayer, dir, t, rowOrder).Rows(CSlot(buf, t, s, batch, 0, n, h), n, h, h);
                    }
                    new FiniteProbe("h", checkLayer, dir, t, rowOrder).Rows(ht, n, h, ldy);
                }
            }
            if (steps > 0)
            {
                // Forward: the rows that ran to T end at T - 1. Reverse: every live row ends at t = 0.
                int last = dir == 0 ? steps - 1 : 0;
                Final(o, buf, last, steps - 1, batch, 0, alive[last], hn, cn, dir);
            }
            for (int r = steps == 0 ? 0 : alive[0]; r < batch; r++) // length 0: the state is h0, c0
            {
                buf.H0.Slice(r * h, h).CopyTo(hn.Slice(r * h, h));
                if (lstm) buf.C0.Slice(r * h, h).CopyTo(cn.Slice(r * h, h));
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(hPrev);
            ArrayPool<float>.Shared.Return(cPrev);
            if (gru) ArrayPool<float>.Shared.Return(gruHidden);
        }
    }

    // hn and cn of rows [r0, r1) from step t (the s-th step of this direction).
    private static void Final(RecurrentOptions o, Buffers buf, int t, int s, int batch, int r0, int r1, Span<float> hn, Span<float> cn, int dir)
    {
        int h = o.HiddenSize, ldy = o.OutputSize;
        for (int r = r0; r < r1; r++)
        {
            buf.Y.Slice((((t * batch) + r) * ldy) + (dir * h), h).CopyTo(hn.Slice(r * h, h));
        }
        if (o.Cell == CellKind.Lstm && r1 > r0)
        {
            CSlot(buf, t, s, batch, r0, r1 - r0, h).CopyTo(cn.Slice(r0 * h, (r1 - r0) * h));
        }
    }

    /// <summary>The packed backward pass: see <see cref="ForwardPacked"/>. DX gets the live rows' gradients only (the rest stay 0).</summary>
    public static void BackwardPacked(RecurrentOptions o, PackedLayer w, int dir, int steps, int batch, Buffers buf, Gradients g, SimdPath path)
    {
        int h = o.HiddenSize, gh = o.Gates * h, ldy = o.OutputSize, inSize = w.InputWeights.Columns;
        bool lstm = o.Cell == CellKind.Lstm, gru = o.Cell == CellKind.Gru;
        ReadOnlySpan<int> alive = buf.Alive;
        int[] offset = new int[steps + 1]; // packed row of (t, 0): the live rows of earlier steps come first
        for (int t = 0; t < steps; t++) offset[t + 1] = offset[t] + alive[t];
        int m = offset[steps];
        // A GRU's dGates has the recurrent side's block [m, 3H] after the input side's (GateGradientLength), and
        // savedAll [m, H] gathers what GruPass saved (r⊙h' feeds dW_hn with linear_before_reset = 0).
        float[] dGates = ArrayPool<float>.Shared.Rent(Math.Max(1, GateGradientLength(o, m))), hPrevAll = ArrayPool<float>.Shared.Rent(Math.Max(1, m * h));
        float[] xAll = ArrayPool<float>.Shared.Rent(Math.Max(1, m * inSize)), cPrev = ArrayPool<float>.Shared.Rent(batch * h);
        float[] savedAll = gru ? ArrayPool<float>.Shared.Rent(Math.Max(1, m * h)) : [];
        float[] dh = new float[batch * h], dhTotal = new float[batch * h], dc = new float[batch * h];
        try
        {
            if (!g.Dhn.IsEmpty) g.Dhn.CopyTo(dh);
            if (!g.Dcn.IsEmpty) g.Dcn.CopyTo(dc);
            for (int s = steps - 1; s >= 0; s--)
            {
                int t = dir == 0 ? s : steps - 1 - s, tPrev = dir == 0 ? t - 1 : t + 1;
                int n = alive[t], carried = s == 0 ? 0 : Math.Min(n, alive[tPrev]);
                for (int r = 0; r < n; r++)
                {
                    int row = (t * batch) + r, packed = offset[t] + r;
                    // dh_t = dY_t (from above) + dh (from the row's next step through W_hh, or dhn at its last step)
                    TensorPrimitives.Add(g.DY.Slice((row * ldy) + (dir * h), h), dh.AsSpan(r * h, h), dhTotal.AsSpan(r * h, h));
                    (r < carried ? buf.Y.Slice((((tPrev * batch) + r) * ldy) + (dir * h), h) : buf.H0.Slice(r * h, h)).CopyTo(hPrevAll.AsSpan(packed * h, h));
                    buf.X.Slice(row * inSize, inSize).CopyTo(xAll.AsSpan(packed * inSize, inSize));
                    if (lstm)
                    {
                        (r < carried ? buf.C.Slice(((tPrev * batch) + r) * h, h) : buf.C0.Slice(r * h, h)).CopyTo(cPrev.AsSpan(r * h, h));
                    }
                }
                if (n == 0)
                {
                    continue;
                }
                Span<float> dgt = dGates.AsSpan(offset[t] * gh, n * gh);
                ReadOnlySpan<float> gt = buf.Gates.Slice(t * batch * gh, n * gh);
                if (gru)
                {
                    ReadOnlySpan<float> saved = buf.C.Slice(t * batch * h, n * h);
                    saved.CopyTo(savedAll.AsSpan(offset[t] * h, n * h));
                    // dh' of the live rows; dc is a GRU's scratch (it has no c), as in SequencePass.BackwardSteps.
                    GruPass.BackwardStep(o, w, n, gt, saved, hPrevAll.AsSpan(offset[t] * h, n * h), h, dhTotal.AsSpan(0, n * h), dgt,
                        dGates.AsSpan((m + offset[t]) * gh, n * gh), dh.AsSpan(0, n * h), dc.AsSpan(0, n * h), path);
                    continue;
                }
                if (lstm)
                {
                    LstmCell.Backward(gt, n, h, cPrev.AsSpan(0, n * h), buf.C.Slice(t * batch * h, n * h), dhTotal.AsSpan(0, n * h), dc.AsSpan(0, n * h), dgt,
                        dc.AsSpan(0, n * h), o.CellOptions, w.Peepholes, g.DPeep, path);
                }
                else
                {
                    for (int r = 0; r < n; r++)
                    {
                        RnnActivation.Backward(o, buf.Y.Slice((((t * batch) + r) * ldy) + (dir * h), h), dhTotal.AsSpan(r * h, h), dgt.Slice(r * h, h), path);
                    }
                }
                // dh_{t-1} = dG_t·W_hh for the live rows; rows that started here from h0 keep it as their dh0.
                Gemm.MultiplyByWeights(dgt, n, w.RecurrentWeights.Float, dh.AsSpan(0, n * h), path: path);
            }
            dh.CopyTo(g.Dh0);
            if (lstm)
            {
                dc.CopyTo(g.Dc0);
            }
            if (m == 0)
            {
                return;
            }
            Gemm.AccumulateWeightGradient(dGates, gh, xAll, inSize, m, gh, inSize, g.DWih, path);  // dW_ih += dGᵀ·X over the live rows
            int recurrentBlock = gru ? m * gh : 0; // a GRU's recurrent side has its own block
            if (gru)
            {
                GruPass.RecurrentWeightGradient(o, m, 0, gh, dGates.AsSpan(recurrentBlock), hPrevAll, savedAll, g.DWhh, path);
            }
            else
            {
                Gemm.AccumulateWeightGradient(dGates, gh, hPrevAll, h, m, gh, h, g.DWhh, path);      // dW_hh += dGᵀ·H_prev
            }
            for (int r = 0; r < m && g.DBih.Length > 0; r++)
            {
                TensorPrimitives.Add(g.DBih, dGates.AsSpan(r * gh, gh), g.DBih); // db = Σ_rows dG
                TensorPrimitives.Add(g.DBhh, dGates.AsSpan(recurrentBlock + (r * gh), gh), g.DBhh);
            }
            if (gru)
            {
                // dX += dG·W_ih into each step's live rows (contiguous: the prefix of the step's B rows), the plain
                // pass's accumulation, so a bidirectional GRU's dX is bitwise that of each row run alone. LSTM and RNN
                // keep the one packed GEMM and the add below (their bits are pinned by existing results).
                for (int t = 0; t < steps; t++)
                {
                    Gemm.MultiplyByWeights(dGates.AsSpan(offset[t] * gh), alive[t], gh, w.InputWeights.Float, g.DX[(t * batch * inSize)..], inSize, accumulate: true, path: path);
                }
                return;
            }
            Gemm.MultiplyByWeights(dGates, m, gh, w.InputWeights.Float, xAll, inSize, accumulate: false, path: path); // dX = dG·W_ih, packed
            for (int t = 0; t < steps; t++)
            {
                for (int r = 0; r < alive[t]; r++)
                {
                    Span<float> dx = g.DX.Slice(((t * batch) + r) * inSize, inSize);
                    TensorPrimitives.Add(dx, xAll.AsSpan((offset[t] + r) * inSize, inSize), dx); // both directions add into dX
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(dGates);
            ArrayPool<float>.Shared.Return(hPrevAll);
            ArrayPool<float>.Shared.Return(xAll);
            ArrayPool<float>.Shared.Return(cPrev);
            if (gru) ArrayPool<float>.Shared.Return(savedAll);
        }
    }
}
