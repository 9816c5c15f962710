using System.Numerics.Tensors;
using Lstm.Simd;

namespace Lstm.Core;

/// <summary>
/// <see cref="ProjectionPass"/> on a padded batch with lengths, as <see cref="SequencePass.ForwardPacked"/> runs one:
/// rows sorted by length, the live rows of step t are [0, alive[t]), a reverse direction starts each row at its own
/// last step from h0 and c0, outputs past a row's length are 0, and the weight gradients are one GEMM each over the
/// live rows gathered in packed order.
/// </summary>
internal static partial class ProjectionPass
{
    public static void ForwardPacked(RecurrentOptions o, PackedLayer w, int dir, int steps, int batch, ReadOnlySpan<int> alive, Buffers buf,
        Span<float> hn, Span<float> cn, SimdPath path, int checkLayer = -1, int[]? rowOrder = null)
    {
        int h = o.HiddenSize, p = o.ProjectionSize, gh = o.Gates * h, ldy = o.OutputSize, inSize = w.InputWeights.Columns;
        float[] hPrev = new float[batch * p], cPrev = new float[batch * h];
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
                Final(o, buf, t - 1, batch, n, alive[t - 1], hn, cn, dir); // rows whose last step was t - 1
            }
            Span<float> yt = buf.Y[(t * batch * ldy)..];
            for (int r = n; r < batch; r++)
            {
                yt.Slice((r * ldy) + (dir * p), p).Clear(); // past this row's length
            }
            if (n == 0)
            {
                continue;
            }
            for (int r = 0; r < n; r++)
            {
                (r < carried ? buf.Y.Slice((((tPrev * batch) + r) * ldy) + (dir * p), p) : buf.H0.Slice(r * p, p)).CopyTo(hPrev.AsSpan(r * p, p));
                (r < carried ? buf.C.Slice(((tPrev * batch) + r) * h, h) : buf.C0.Slice(r * h, h)).CopyTo(cPrev.AsSpan(r * h, h));
            }
            Span<float> gt = buf.Gates.Slice(t * batch * gh, n * gh);
            w.RecurrentWeights.Multiply(hPrev, n, p, gt, gh, accumulate: true, path);                                    // G_t += h_{t-1}·W_hhᵀ
            Span<float> raw = buf.Raw.Slice(t * batch * h, n * h);
            LstmCell.Forward(gt, n, h, cPrev.AsSpan(0, n * h), buf.C.Slice(t * batch * h, n * h), raw, h, o.CellOptions, default, path); // o ⊙ tanh(c)
            Gemm.Multiply(raw, n, h, w.Projection!, yt[(dir * p)..], ldy, path);                                         // h_t = (o ⊙ tanh c)·W_hrᵀ
            if (checkLayer >= 0)
            {
                new FiniteProbe("c", checkLayer, dir, t, rowOrder).Rows(buf.C.Slice(t * batch * h, n * h), n, h, h);
                new FiniteProbe("h", checkLayer, dir, t, rowOrder).Rows(yt[(dir * p)..], n, p, ldy);
            }
        }
        if (steps > 0)
        {
            int last = dir == 0 ? steps - 1 : 0; // forward: the rows that ran to T; reverse: every live row ends at t = 0
            Final(o, buf, last, batch, 0, alive[last], hn, cn, dir);
        }
        for (int r = steps == 0 ? 0 : alive[0]; r < batch; r++) // length 0: the state is h0, c0
        {
            buf.H0.Slice(r * p, p).CopyTo(hn.Slice(r * p, p));
            buf.C0.Slice(r * h, h).CopyTo(cn.Slice(r * h, h));
        }
    }

    private static void Final(RecurrentOptions o, Buffers buf, int t, int batch, int r0, int r1, Span<float> hn, Span<float> cn, int dir)
    {
        int h = o.HiddenSize, p = o.ProjectionSize, ldy = o.OutputSize;
        for (int r = r0; r < r1; r++)
        {
            buf.Y.Slice((((t * batch) + r) * ldy) + (dir * p), p).CopyTo(hn.Slice(r * p, p));
            buf.C.Slice(((t * batch) + r) * h, h).CopyTo(cn.Slice(r * h, h));
        }
    }

    public static void BackwardPacked(RecurrentOptions o, PackedLayer w, int dir, int steps, int batch, ReadOnlySpan<int> alive, Buffers buf, Gradients g, SimdPath path)
    {
        int h = o.HiddenSize, p = o.ProjectionSize, gh = o.Gates * h, ldy = o.OutputSize, inSize = w.InputWeights.Columns;
        int[] offset = new int[steps + 1]; // packed row of (t, 0): the live rows of earlier steps come first
        for (int t = 0; t < steps; t++) offset[t + 1] = offset[t] + alive[t];
        int m = offset[steps];
        float[] dGates = new float[m * gh], hPrevAll = new float[m * p], dProjected = new float[m * p], rawAll = new float[m * h], xAll = new float[m * inSize];
        float[] dh = new float[batch * p], dRaw = new float[batch * h], dc = new float[batch * h], cPrev = new float[batch * h];
        if (!g.Dhn.IsEmpty) g.Dhn.CopyTo(dh);
        if (!g.Dcn.IsEmpty) g.Dcn.CopyTo(dc);
        for (int s = steps - 1; s >= 0; s--)
        {
            int t = dir == 0 ? s : steps - 1 - s, tPrev = dir == 0 ? t - 1 : t + 1;
            int n = alive[t], carried = s == 0 ? 0 : Math.Min(n, alive[tPrev]);
            if (n == 0)
            {
                continue;
            }
            for (int r = 0; r < n; r++)
            {
                int row = (t * batch) + r, packed = offset[t] + r;
                // dh_t = dY_t + dh (from the row's next step through W_hh, or dhn at its last step), in the projected space
                TensorPrimitives.Add(g.DY.Slice((row * ldy) + (dir * p), p), dh.AsSpan(r * p, p), dProjected.AsSpan(packed * p, p));
                (r < carried ? buf.Y.Slice((((tPrev * batch) + r) * ldy) + (dir * p), p) : buf.H0.Slice(r * p, p)).CopyTo(hPrevAll.AsSpan(packed * p, p));
                (r < carried ? buf.C.Slice(((tPrev * batch) + r) * h, h) : buf.C0.Slice(r * h, h)).CopyTo(cPrev.AsSpan(r * h, h));
                buf.Raw.Slice(row * h, h).CopyTo(rawAll.AsSpan(packed * h, h));
                buf.X.Slice(row * inSize, inSize).CopyTo(xAll.AsSpan(packed * inSize, inSize));
            }
            Gemm.MultiplyByWeights(dProjected.AsSpan(offset[t] * p, n * p), n, w.Projection!, dRaw.AsSpan(0, n * h), path: path); // d(o ⊙ tanh c)
            Span<float> dgt = dGates.AsSpan(offset[t] * gh, n * gh);
            LstmCell.Backward(buf.Gates.Slice(t * batch * gh, n * gh), n, h, cPrev.AsSpan(0, n * h), buf.C.Slice(t * batch * h, n * h), dRaw.AsSpan(0, n * h),
                dc.AsSpan(0, n * h), dgt, dc.AsSpan(0, n * h), o.CellOptions, default, default, path);
            // dh_{t-1} = dG_t·W_hh for the live rows; rows that started here from h0 keep it as their dh0.
            Gemm.MultiplyByWeights(dgt, n, w.RecurrentWeights.Float, dh.AsSpan(0, n * p), path: path);
        }
        dh.CopyTo(g.Dh0);
        dc.CopyTo(g.Dc0);
        if (m == 0)
        {
            return;
        }
        Gemm.AccumulateWeightGradient(dGates, gh, xAll, inSize, m, gh, inSize, g.DWih, path);  // dW_ih += dGᵀ·X over the live rows
        Gemm.AccumulateWeightGradient(dGates, gh, hPrevAll, p, m, gh, p, g.DWhh, path);        // dW_hh += dGᵀ·H_prev
        Gemm.AccumulateWeightGradient(dProjected, p, rawAll, h, m, p, h, g.DWhr, path);        // dW_hr += dHᵀ·(o ⊙ tanh c)
        for (int r = 0; r < m && g.DBih.Length > 0; r++)
        {
            ReadOnlySpan<float> row = dGates.AsSpan(r * gh, gh);
            TensorPrimitives.Add(g.DBih, row, g.DBih); // db = Σ_rows dG
            TensorPrimitives.Add(g.DBhh, row, g.DBhh);
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
}
