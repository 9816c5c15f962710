using System.Numerics.Tensors;
using Lstm.Simd;

namespace Lstm.Core;

/// <summary>
/// One layer-direction of an LSTM with projections (PyTorch's proj_size P): the fused cell makes o ⊙ tanh(c) [B, H]
/// as usual, and one more GEMM per step projects it, h_t = (o ⊙ tanh c)·W_hrᵀ [B, P], which is the output and what the
/// next step's recurrent GEMM (W_hh [4H, P]) reads. c stays H wide. The backward pass mirrors it; dW_hr is one GEMM
/// over all T·B rows, like dW_ih and dW_hh.
/// </summary>
internal static partial class ProjectionPass
{
    /// <summary>The buffers of one layer-direction; rows are time-major (t·B + b).</summary>
    internal ref struct Buffers
    {
        public ReadOnlySpan<float> X;   // [T·B, in]
        public Span<float> Y;           // [T·B, D·P]; this direction writes columns dir·P ..
        public Span<float> Gates;       // [T·B, 4H]
        public Span<float> C;           // [T·B, H]
        public Span<float> Raw;         // [T·B, H]: o ⊙ tanh(c), before the projection
        public ReadOnlySpan<float> H0;  // [B, P]
        public ReadOnlySpan<float> C0;  // [B, H]
    }

    public static void Forward(RecurrentOptions o, PackedLayer w, int dir, int steps, int batch, Buffers buf, Span<float> hn, Span<float> cn, SimdPath path,
        int checkLayer = -1)
    {
        int h = o.HiddenSize, p = o.ProjectionSize, gh = o.Gates * h, ldy = o.OutputSize, inSize = w.InputWeights.Columns;
        if (batch == 0)
        {
            return;
        }
        w.InputWeights.Multiply(buf.X, steps * batch, inSize, buf.Gates, gh, accumulate: false, path); // G = X·W_ihᵀ + b_ih + b_hh
        for (int s = 0; s < steps; s++)
        {
            int t = dir == 0 ? s : steps - 1 - s, tPrev = dir == 0 ? t - 1 : t + 1;
            Span<float> gt = buf.Gates.Slice(t * batch * gh, batch * gh);
            ReadOnlySpan<float> hPrev = s == 0 ? buf.H0 : buf.Y[((tPrev * batch * ldy) + (dir * p))..];
            w.RecurrentWeights.Multiply(hPrev, batch, s == 0 ? p : ldy, gt, gh, accumulate: true, path);               // G_t += h_{t-1}·W_hhᵀ
            ReadOnlySpan<float> cPrev = s == 0 ? buf.C0 : buf.C.Slice(tPrev * batch * h, batch * h);
            Span<float> raw = buf.Raw.Slice(t * batch * h, batch * h);
            LstmCell.Forward(gt, batch, h, cPrev, buf.C.Slice(t * batch * h, batch * h), raw, h, o.CellOptions, default, path); // o ⊙ tanh(c)
            Span<float> ht = buf.Y[((t * batch * ldy) + (dir * p))..];
            Gemm.Multiply(raw, batch, h, w.Projection!, ht, ldy, path);                                                   // h_t = (o ⊙ tanh c)·W_hrᵀ
            if (checkLayer >= 0)
            {
                new FiniteProbe("c", checkLayer, dir, t).Rows(buf.C.Slice(t * batch * h, batch * h), batch, h, h);
                new FiniteProbe("h", checkLayer, dir, t).Rows(ht, batch, p, ldy);
            }
        }
        int last = dir == 0 ? steps - 1 : 0;
        for (int b = 0; b < batch; b++)
        {
            (steps == 0 ? buf.H0.Slice(b * p, p) : buf.Y.Slice((((last * batch) + b) * ldy) + (dir * p), p)).CopyTo(hn.Slice(b * p, p));
        }
        (steps == 0 ? buf.C0 : buf.C.Slice(last * batch * h, batch * h)).CopyTo(cn);
    }

    /// <summary>The gradients of one layer-direction; DX accumulates (both directions read the same input).</summary>
    internal ref struct Gradients
    {
        public ReadOnlySpan<float> DY;  // [T·B, D·P]
        public Span<float> DX;          // [T·B, in]
        public ReadOnlySpan<float> Dhn; // [B, P] or empty
        public ReadOnlySpan<float> Dcn; // [B, H] or empty
        public Span<float> Dh0;         // [B, P]
        public Span<float> Dc0;         // [B, H]
        public float[] DWih, DWhh, DBih, DBhh, DWhr; // DBih, DBhh empty without bias
    }

    public static void Backward(RecurrentOptions o, PackedLayer w, int dir, int steps, int batch, Buffers buf, Gradients g, SimdPath path)
    {
        int h = o.HiddenSize, p = o.ProjectionSize, gh = o.Gates * h, ldy = o.OutputSize, inSize = w.InputWeights.Columns, m = steps * batch;
        if (batch == 0)
        {
            return;
        }
        float[] dGates = new float[m * gh], hPrevAll = new float[m * p], dProjected = new float[m * p];
        float[] dh = new float[batch * p], dRaw = new float[batch * h], dc = new float[batch * h];
        if (!g.Dhn.IsEmpty) g.Dhn.CopyTo(dh);
        if (!g.Dcn.IsEmpty) g.Dcn.CopyTo(dc);
        for (int s = steps - 1; s >= 0; s--)
        {
            int t = dir == 0 ? s : steps - 1 - s, tPrev = dir == 0 ? t - 1 : t + 1;
            for (int b = 0; b < batch; b++)
            {
                int row = (t * batch) + b;
                // dh_t = dY_t (from above) + dh (from step t+1 through W_hh), in the projected space [P]
                TensorPrimitives.Add(g.DY.Slice((row * ldy) + (dir * p), p), dh.AsSpan(b * p, p), dProjected.AsSpan(row * p, p));
                (s == 0 ? buf.H0.Slice(b * p, p) : buf.Y.Slice((((tPrev * batch) + b) * ldy) + (dir * p), p)).CopyTo(hPrevAll.AsSpan(row * p, p));
            }
            Gemm.MultiplyByWeights(dProjected.AsSpan(t * batch * p, batch * p), batch, w.Projection!, dRaw, path: path); // d(o ⊙ tanh c) = dh_t·W_hr
            ReadOnlySpan<float> cPrev = s == 0 ? buf.C0 : buf.C.Slice(tPrev * batch * h, batch * h);
            Span<float> dgt = dGates.AsSpan(t * batch * gh, batch * gh);
            LstmCell.Backward(buf.Gates.Slice(t * batch * gh, batch * gh), batch, h, cPrev, buf.C.Slice(t * batch * h, batch * h), dRaw, dc, dgt, dc,
                o.CellOptions, default, default, path);
            Gemm.MultiplyByWeights(dgt, batch, w.RecurrentWeights.Float, dh, path: path); // dh_{t-1} = dG_t·W_hh [B, P]
        }
        dh.CopyTo(g.Dh0);
        dc.CopyTo(g.Dc0);

        Gemm.AccumulateWeightGradient(dGates, gh, buf.X, inSize, m, gh, inSize, g.DWih, path);   // dW_ih += dGᵀ·X
        Gemm.AccumulateWeightGradient(dGates, gh, hPrevAll, p, m, gh, p, g.DWhh, path);         // dW_hh += dGᵀ·H_prev
        Gemm.AccumulateWeightGradient(dProjected, p, buf.Raw, h, m, p, h, g.DWhr, path);        // dW_hr += dHᵀ·(o ⊙ tanh c)
        for (int r = 0; r < m && g.DBih.Length > 0; r++)
        {
            ReadOnlySpan<float> row = dGates.AsSpan(r * gh, gh);
            TensorPrimitives.Add(g.DBih, row, g.DBih); // db = Σ_rows dG
            TensorPrimitives.Add(g.DBhh, row, g.DBhh);
        }
        Gemm.MultiplyByWeights(dGates, m, gh, w.InputWeights.Float, g.DX, inSize, accumulate: true, path: path); // dX += dG·W_ih
    }
}
