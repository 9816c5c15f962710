using System.Buffers;
using System.Numerics.Tensors;
using Lstm.Simd;

namespace Lstm.Core;

/// <summary>
/// Forward and backward of one layer in one direction over a whole sequence, rows in time-major order
/// (row t·B + b). Forward: one GEMM for the input projection of all T steps, then per step one recurrent GEMM and one
/// fused cell call. Backward mirrors it, and the weight gradients are one GEMM each over all T·B rows. Each part takes
/// a range of rows, so that a team (<see cref="Threading.SplitSequence"/>, <see cref="Threading.SplitBackward"/>) runs
/// the very same code on its share.
/// </summary>
internal static partial class SequencePass
{
    /// <summary>The buffers one layer-direction's forward pass writes and its backward pass reads.</summary>
    internal ref struct Buffers
    {
        public ReadOnlySpan<float> X;   // [T·B, in]
        public Span<float> Y;           // [T·B, D·H]; this direction writes columns dir·H ..
        public Span<float> Gates;       // [T·B, G·H]: pre-activations, then the activations the backward pass needs
        public Span<float> C;           // [T·B, H] c_t of every step (training), or [2·B, H] ping-pong (inference); LSTM, and GRU (what GruPass saves)
        public ReadOnlySpan<float> H0;  // [B, H]
        public ReadOnlySpan<float> C0;  // [B, H] (LSTM)
        public bool KeepAllC;
        public ReadOnlySpan<int> Alive; // [T]: rows live at each step, rows sorted by length (ForwardPacked); empty: all B
    }

    // checkLayer ≥ 0: throw NonFiniteValueException naming this layer at the first non-finite h or c.
    public static void Forward(RecurrentOptions o, PackedLayer w, int dir, int steps, int batch, Buffers buf, Span<float> hn, Span<float> cn, SimdPath path,
        int checkLayer = -1)
    {
        if (batch == 0)
        {
            return;
        }
        Project(o, w, steps * batch, 0, steps * batch, buf, path);
        ForwardSteps(o, w, dir, steps, batch, 0, batch, buf, hn, cn, path, checkLayer);
    }

    /// <summary>G = X·W_ihᵀ + b_ih + b_hh for rows [r0, r1) of all T·B (the team splits these by row chunks).</summary>
    public static void Project(RecurrentOptions o, PackedLayer w, int rows, int r0, int r1, Buffers buf, SimdPath path)
    {
        int gh = o.Gates * o.HiddenSize, inSize = w.InputWeights.Columns;
        w.InputWeights.Multiply(buf.X[(r0 * inSize)..(rows * inSize)], r1 - r0, inSize, buf.Gates[(r0 * gh)..], gh, accumulate: false, path);
    }

    /// <summary>
    /// Carries batch rows [b0, b0 + nb) of B through all T steps (rows never mix, so a team splits them with no
    /// barrier) and writes their hn and cn. The gates must hold the input projection already.
    /// </summary>
    public static void ForwardSteps(RecurrentOptions o, PackedLayer w, int dir, int steps, int batch, int b0, int nb, Buffers buf,
        Span<float> hn, Span<float> cn, SimdPath path, int checkLayer = -1)
    {
        int h = o.HiddenSize, gh = o.Gates * h, ldy = o.OutputSize;
        float[] gruHidden = o.Cell == CellKind.Gru ? ArrayPool<float>.Shared.Rent(nb * gh) : []; // not returned if a step throws: the GC takes it
        for (int s = 0; s < steps; s++)
        {
            int t = dir == 0 ? s : steps - 1 - s, tPrev = dir == 0 ? t - 1 : t + 1;
            Span<float> gt = buf.Gates.Slice(((t * batch) + b0) * gh, nb * gh);
            ReadOnlySpan<float> hPrev = s == 0 ? buf.H0[(b0 * h)..] : buf.Y[((((tPrev * batch) + b0) * ldy) + (dir * h))..];
            if (o.Cell == CellKind.Gru)
            {
                bool save = buf.KeepAllC || !o.LinearBeforeReset; // inference with r after the product reads nothing back
                GruPass.Step(o, w, nb, hPrev, s == 0 ? h : ldy, gt, gruHidden.AsSpan(0, nb * gh), save ? CSlot(buf, t, s, batch, b0, nb, h) : default,
                    buf.Y[((((t * batch) + b0) * ldy) + (dir * h))..], ldy, path);
                if (checkLayer >= 0)
                {
                    new FiniteProbe("h", checkLayer, dir, t).Rows(buf.Y[((((t * batch) + b0) * ldy) + (dir * h))..], nb, h, ldy);
                }
                continue;
            }
            w.RecurrentWeights.Multiply(hPrev, nb, s == 0 ? h : ldy, gt, gh, accumulate: true, path); // G_t += h_{t-1}·W_hhᵀ
            Span<float> ht = buf.Y[((((t * batch) + b0) * ldy) + (dir * h))..];
            if (o.Cell == CellKind.Lstm)
            {
                ReadOnlySpan<float> cPrev = s == 0 ? buf.C0.Slice(b0 * h, nb * h) : CSlot(buf, tPrev, s - 1, batch, b0, nb, h);
                LstmCell.Forward(gt, nb, h, cPrev, CSlot(buf, t, s, batch, b0, nb, h), ht, ldy, o.CellOptions, w.Peepholes, path);
            }
            else
            {
                for (int b = 0; b < nb; b++)
                {
                    RnnActivation.Forward(o, gt.Slice(b * h, h), ht.Slice(b * ldy, h), path); // h_t = tanh(G_t) or max(0, G_t)
                }
            }
            if (checkLayer >= 0)
            {
                if (o.Cell == CellKind.Lstm)
                {
                    new FiniteProbe("c", checkLayer, dir, t).Rows(CSlot(buf, t, s, batch, b0, nb, h), nb, h, h);
                }
                new FiniteProbe("h", checkLayer, dir, t).Rows(ht, nb, h, ldy);
            }
        }
        if (gruHidden.Length > 0)
        {
            ArrayPool<float>.Shared.Return(gruHidden);
        }

        int last = dir == 0 ? steps - 1 : 0;
        for (int b = b0; b < b0 + nb; b++)
        {
            ReadOnlySpan<float> src = steps == 0 ? buf.H0.Slice(b * h, h) : buf.Y.Slice((((last * batch) + b) * ldy) + (dir * h), h);
            src.CopyTo(hn.Slice(b * h, h));
        }
        if (o.Cell == CellKind.Lstm)
        {
            (steps == 0 ? buf.C0.Slice(b0 * h, nb * h) : CSlot(buf, last, steps - 1, batch, b0, nb, h)).CopyTo(cn.Slice(b0 * h, nb * h));
        }
    }

    /// <summary>The gradients of one layer-direction: dX accumulates (both directions read the same input).</summary>
    internal ref struct Gradients
    {
        public ReadOnlySpan<float> DY;  // [T·B, D·H]; columns dir·H .. are this direction's
        public Span<float> DX;          // [T·B, in], accumulated
        public ReadOnlySpan<float> Dhn; // [B, H] or empty
        public ReadOnlySpan<float> Dcn; // [B, H] or empty
        public Span<float> Dh0;         // [B, H]
        public Span<float> Dc0;         // [B, H] (LSTM)
        public float[] DWih, DWhh, DBih, DBhh, DPeep; // DBih, DBhh empty without bias
    }

    /// <summary>
    /// The dGates buffer for m rows: [m, G·H], and for a GRU a second block [m, 3H] after it for the recurrent side
    /// (whose n block differs from the input side's: r scales it, or it multiplies r⊙h').
    /// </summary>
    public static int GateGradientLength(RecurrentOptions o, int m) => m * o.Gates * o.HiddenSize * (o.Cell == CellKind.Gru ? 2 : 1);

    /// <summary>
    /// Carries batch rows [b0, b0 + nb) back through all T steps (dh_{t-1} of a row depends only on that row's dG_t,
    /// so a team splits them with no barrier), filling their rows of dGates [T·B, G·H] and hPrevAll [T·B, H] (h_{t-1}
    /// of every step, for dW_hh in one GEMM), and writes their dh0 and dc0. <paramref name="scratch"/> [3, B, H] holds
    /// the running dh, dh + dY and dc of every row (these rows' parts only are touched).
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // see BackwardLayer
    public static void BackwardSteps(RecurrentOptions o, PackedLayer w, int dir, int steps, int batch, int b0, int nb, Buffers buf, Gradients g,
        SimdPath path, Span<float> dGates, Span<float> hPrevAll, Span<float> scratch)
    {
        int h = o.HiddenSize, gh = o.Gates * h, ldy = o.OutputSize;
        Span<float> dh = scratch.Slice(b0 * h, nb * h), dhTotal = scratch.Slice((batch + b0) * h, nb * h), dc = scratch.Slice(((2 * batch) + b0) * h, nb * h);
        if (g.Dhn.IsEmpty) dh.Clear(); else g.Dhn.Slice(b0 * h, nb * h).CopyTo(dh);
        if (g.Dcn.IsEmpty) dc.Clear(); else g.Dcn.Slice(b0 * h, nb * h).CopyTo(dc);

        for (int s = steps - 1; s >= 0; s--)
        {
            int t = dir == 0 ? s : steps - 1 - s, tPrev = dir == 0 ? t - 1 : t + 1;
            for (int r = 0; r < nb; r++)
            {
                int row = (t * batch) + b0 + r;
                // dh_t = dY_t (from above) + dh (from step t+1 through W_hh)
                TensorPrimitives.Add(g.DY.Slice((row * ldy) + (dir * h), h), dh.Slice(r * h, h), dhTotal.Slice(r * h, h));
                ReadOnlySpan<float> hp = s == 0 ? buf.H0.Slice((b0 + r) * h, h) : buf.Y.Slice((((tPrev * batch) + b0 + r) * ldy) + (dir * h), h);
                hp.CopyTo(hPrevAll.Slice(row * h, h));
            }
            Span<float> dgt = dGates.Slice(((t * batch) + b0) * gh, nb * gh);
            ReadOnlySpan<float> gt = buf.Gates.Slice(((t * batch) + b0) * gh, nb * gh);
            if (o.Cell == CellKind.Gru)
            {
                ReadOnlySpan<float> hPrevRows = s == 0 ? buf.H0[(b0 * h)..] : buf.Y[((((tPrev * batch) + b0) * ldy) + (dir * h))..];
                GruPass.BackwardStep(o, w, nb, gt, buf.C.Slice(((t * batch) + b0) * h, nb * h), hPrevRows, s == 0 ? h : ldy, dhTotal,
                    dgt, dGates.Slice((((steps * batch) + (t * batch) + b0) * gh), nb * gh), dh, dc, path); // a GRU has no c: dc's rows are its scratch
                continue;
            }
            if (o.Cell == CellKind.Lstm)
            {
                ReadOnlySpan<float> cPrev = s == 0 ? buf.C0.Slice(b0 * h, nb * h) : buf.C.Slice(((tPrev * batch) + b0) * h, nb * h);
                LstmCell.Backward(gt, nb, h, cPrev, buf.C.Slice(((t * batch) + b0) * h, nb * h), dhTotal, dc, dgt, dc, o.CellOptions, w.Peepholes, g.DPeep, path);
            }
            else
            {
                for (int r = 0; r < nb; r++)
                {
                    // dG_t = dh_t ⊙ (1 - h_t²), or dh_t where h_t > 0 (ReLU)
                    RnnActivation.Backward(o, buf.Y.Slice((((t * batch) + b0 + r) * ldy) + (dir * h), h), dhTotal.Slice(r * h, h), dgt.Slice(r * h, h), path);
                }
            }
            Gemm.MultiplyByWeights(dgt, nb, w.RecurrentWeights.Float, dh, path: path); // dh_{t-1} = dG_t·W_hh
        }
        dh.CopyTo(g.Dh0.Slice(b0 * h, nb * h));
        if (o.Cell == CellKind.Lstm)
        {
            dc.CopyTo(g.Dc0.Slice(b0 * h, nb * h));
        }
    }

    /// <summary>
    /// Over all m = T·B rows: gate rows [n0, n1) of dW_ih, dW_hh and the biases (each element one FMA chain over the
    /// rows in order, whatever the split), and rows [r0, r1) of dX.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // see BackwardLayer
    public static void WeightGradients(RecurrentOptions o, PackedLayer w, int m, int n0, int n1, int r0, int r1, Buffers buf, Gradients g, SimdPath path,
        ReadOnlySpan<float> dGates, ReadOnlySpan<float> hPrevAll)
    {
        int h = o.HiddenSize, gh = o.Gates * h, inSize = w.InputWeights.Columns, n = n1 - n0;
        if (n > 0)
        {
            Gemm.AccumulateWeightGradient(dGates[n0..], gh, buf.X, inSize, m, n, inSize, g.DWih.AsSpan(n0 * inSize, n * inSize), path); // dW_ih += dGᵀ·X
            ReadOnlySpan<float> dRecurrent = o.Cell == CellKind.Gru ? dGates[(m * gh)..] : dGates; // a GRU's recurrent side has its own block
            if (o.Cell == CellKind.Gru)
            {
                GruPass.RecurrentWeightGradient(o, m, n0, n1, dRecurrent, hPrevAll, buf.C, g.DWhh, path);
            }
            else
            {
                Gemm.AccumulateWeightGradient(dGates[n0..], gh, hPrevAll, h, m, n, h, g.DWhh.AsSpan(n0 * h, n * h), path);            // dW_hh += dGᵀ·H_prev
            }
            for (int r = 0; r < m && g.DBih.Length > 0; r++) // no bias gradients without bias (bias=False)
            {
                ReadOnlySpan<float> row = dGates.Slice((r * gh) + n0, n);
                TensorPrimitives.Add(g.DBih.AsSpan(n0, n), row, g.DBih.AsSpan(n0, n)); // db = Σ_rows dG
                TensorPrimitives.Add(g.DBhh.AsSpan(n0, n), dRecurrent.Slice((r * gh) + n0, n), g.DBhh.AsSpan(n0, n));
            }
        }
        if (r1 > r0)
        {
            Gemm.MultiplyByWeights(dGates[(r0 * gh)..], r1 - r0, gh, w.InputWeights.Float, g.DX[(r0 * inSize)..], inSize, accumulate: true, path: path); // dX += dG·W_ih
        }
    }

    // c_t of rows [b0, b0 + nb): in every step's slot (training), or in the ping-pong half of step s (inference).
    private static Span<float> CSlot(Buffers buf, int t, int s, int batch, int b0, int nb, int h) =>
        buf.C.Slice(((buf.KeepAllC ? t * batch : (s & 1) * batch) + b0) * h, nb * h);
}
