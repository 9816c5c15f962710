using System.Buffers;
using System.Numerics.Tensors;
using Lstm.Simd;

namespace Lstm.Core;

/// <summary>
/// Forward and backward of one layer in one direction over a whole sequence, rows in time-major order
/// (row t·B + b). Forward: one GEMM for the input projection of all T steps, then per step one recurrent GEMM and one
/// fused cell call. Backward mirrors it, and the weight gradients are one GEMM each over all T·B rows.
/// </summary>
internal static class SequencePass
{
    /// <summary>The buffers one layer-direction's forward pass writes and its backward pass reads.</summary>
    internal ref struct Buffers
    {
        public ReadOnlySpan<float> X;   // [T·B, in]
        public Span<float> Y;           // [T·B, D·H]; this direction writes columns dir·H ..
        public Span<float> Gates;       // [T·B, G·H]: pre-activations, then the activations the backward pass needs
        public Span<float> C;           // [T·B, H] c_t of every step (training), or [2·B, H] ping-pong (inference); LSTM only
        public ReadOnlySpan<float> H0;  // [B, H]
        public ReadOnlySpan<float> C0;  // [B, H] (LSTM)
        public bool KeepAllC;
    }

    // checkLayer ≥ 0: throw NonFiniteValueException naming this layer at the first non-finite h or c.
    public static void Forward(RecurrentOptions o, PackedLayer w, int dir, int steps, int batch, Buffers buf, Span<float> hn, Span<float> cn, SimdPath path,
        int checkLayer = -1)
    {
        int h = o.HiddenSize, gh = o.Gates * h, ldy = o.OutputSize, inSize = w.InputWeights.Columns, rows = batch;
        if (rows == 0)
        {
            return;
        }
        Gemm.Multiply(buf.X, steps * batch, inSize, w.InputWeights, buf.Gates, gh, path); // G = X·W_ihᵀ + b_ih + b_hh, all steps
        for (int s = 0; s < steps; s++)
        {
            int t = dir == 0 ? s : steps - 1 - s, tPrev = dir == 0 ? t - 1 : t + 1;
            Span<float> gt = buf.Gates.Slice(t * rows * gh, rows * gh);
            ReadOnlySpan<float> hPrev = s == 0 ? buf.H0 : buf.Y[((tPrev * rows * ldy) + (dir * h))..];
            Gemm.MultiplyAdd(hPrev, rows, s == 0 ? h : ldy, w.RecurrentWeights, gt, gh, path); // G_t += h_{t-1}·W_hhᵀ
            Span<float> ht = buf.Y[((t * rows * ldy) + (dir * h))..];
            if (o.Cell == CellKind.Lstm)
            {
                ReadOnlySpan<float> cPrev = s == 0 ? buf.C0 : CSlot(buf, tPrev, s - 1, rows, h);
                LstmCell.Forward(gt, rows, h, cPrev, CSlot(buf, t, s, rows, h), ht, ldy, o.CellOptions, w.Peepholes, path);
            }
            else
            {
                for (int b = 0; b < rows; b++)
                {
                    RnnCell.Forward(gt.Slice(b * h, h), ht.Slice(b * ldy, h), path); // h_t = tanh(G_t)
                }
            }
            if (checkLayer >= 0)
            {
                if (o.Cell == CellKind.Lstm)
                {
                    new FiniteProbe("c", checkLayer, dir, t).Rows(CSlot(buf, t, s, rows, h), rows, h, h);
                }
                new FiniteProbe("h", checkLayer, dir, t).Rows(ht, rows, h, ldy);
            }
        }

        int last = dir == 0 ? steps - 1 : 0;
        for (int b = 0; b < rows; b++)
        {
            ReadOnlySpan<float> src = steps == 0 ? buf.H0.Slice(b * h, h) : buf.Y.Slice((((last * rows) + b) * ldy) + (dir * h), h);
            src.CopyTo(hn.Slice(b * h, h));
        }
        if (o.Cell == CellKind.Lstm)
        {
            (steps == 0 ? buf.C0 : CSlot(buf, last, steps - 1, rows, h)).CopyTo(cn);
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
        public float[] DWih, DWhh, DBih, DBhh, DPeep;
    }

    public static void Backward(RecurrentOptions o, PackedLayer w, int dir, int steps, int batch, Buffers buf, Gradients g, SimdPath path)
    {
        int h = o.HiddenSize, gh = o.Gates * h, ldy = o.OutputSize, inSize = w.InputWeights.Columns, rows = batch;
        if (rows == 0)
        {
            return;
        }
        float[] dGatesArray = ArrayPool<float>.Shared.Rent(steps * rows * gh), hPrevArray = ArrayPool<float>.Shared.Rent(steps * rows * h);
        try
        {
            BackwardSteps(o, w, dir, steps, rows, buf, g, path, dGatesArray.AsSpan(0, steps * rows * gh), hPrevArray.AsSpan(0, steps * rows * h));
        }
        finally
        {
            ArrayPool<float>.Shared.Return(dGatesArray);
            ArrayPool<float>.Shared.Return(hPrevArray);
        }
    }

    // dGates [T·B, G·H] and hPrevAll [T·B, H] (h_{t-1} of every step, for dW_hh in one GEMM) are scratch.
    private static void BackwardSteps(RecurrentOptions o, PackedLayer w, int dir, int steps, int rows, Buffers buf, Gradients g, SimdPath path,
        Span<float> dGates, Span<float> hPrevAll)
    {
        int h = o.HiddenSize, gh = o.Gates * h, ldy = o.OutputSize, inSize = w.InputWeights.Columns;
        float[] dh = new float[rows * h], dhTotal = new float[rows * h], dc = new float[rows * h];
        g.Dhn.CopyTo(dh);
        g.Dcn.CopyTo(dc);

        for (int s = steps - 1; s >= 0; s--)
        {
            int t = dir == 0 ? s : steps - 1 - s, tPrev = dir == 0 ? t - 1 : t + 1;
            for (int b = 0; b < rows; b++)
            {
                // dh_t = dY_t (from above) + dh (from step t+1 through W_hh)
                TensorPrimitives.Add(g.DY.Slice((((t * rows) + b) * ldy) + (dir * h), h), dh.AsSpan(b * h, h), dhTotal.AsSpan(b * h, h));
                ReadOnlySpan<float> hp = s == 0 ? buf.H0.Slice(b * h, h) : buf.Y.Slice((((tPrev * rows) + b) * ldy) + (dir * h), h);
                hp.CopyTo(hPrevAll.Slice(((t * rows) + b) * h, h));
            }
            Span<float> dgt = dGates.Slice(t * rows * gh, rows * gh);
            ReadOnlySpan<float> gt = buf.Gates.Slice(t * rows * gh, rows * gh);
            if (o.Cell == CellKind.Lstm)
            {
                ReadOnlySpan<float> cPrev = s == 0 ? buf.C0 : buf.C.Slice(tPrev * rows * h, rows * h);
                LstmCell.Backward(gt, rows, h, cPrev, buf.C.Slice(t * rows * h, rows * h), dhTotal, dc, dgt, dc, o.CellOptions, w.Peepholes, g.DPeep, path);
            }
            else
            {
                for (int b = 0; b < rows; b++)
                {
                    // dG_t = dh_t ⊙ (1 - h_t²)
                    RnnCell.Backward(buf.Y.Slice((((t * rows) + b) * ldy) + (dir * h), h), dhTotal.AsSpan(b * h, h), dgt.Slice(b * h, h), path);
                }
            }
            Gemm.MultiplyByWeights(dgt, rows, w.RecurrentWeights, dh, path: path); // dh_{t-1} = dG_t·W_hh
        }
        dh.CopyTo(g.Dh0);
        if (o.Cell == CellKind.Lstm)
        {
            dc.CopyTo(g.Dc0);
        }

        int m = steps * rows;
        Gemm.AccumulateWeightGradient(dGates, gh, buf.X, inSize, m, gh, inSize, g.DWih, path); // dW_ih += dGᵀ·X
        Gemm.AccumulateWeightGradient(dGates, hPrevAll, m, gh, h, g.DWhh, path);              // dW_hh += dGᵀ·H_prev
        for (int r = 0; r < m; r++)
        {
            ReadOnlySpan<float> row = dGates.Slice(r * gh, gh);
            TensorPrimitives.Add(g.DBih, row, g.DBih); // db = Σ_rows dG
            TensorPrimitives.Add(g.DBhh, row, g.DBhh);
        }
        Gemm.MultiplyByWeights(dGates, m, w.InputWeights, g.DX, accumulate: true, path: path); // dX += dG·W_ih
    }

    private static Span<float> CSlot(Buffers buf, int t, int s, int rows, int h) =>
        buf.KeepAllC ? buf.C.Slice(t * rows * h, rows * h) : buf.C.Slice((s & 1) * rows * h, rows * h);
}
