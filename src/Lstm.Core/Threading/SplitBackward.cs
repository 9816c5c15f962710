using System.Buffers;
using Lstm.Simd;

namespace Lstm.Core.Threading;

/// <summary>
/// One layer-direction's backward pass on a team, rows split (batches of 16 rows per member and more), the same
/// arithmetic as <see cref="SequencePass.Backward"/> and so the same bits: each member carries its own batch rows back
/// through all T steps (dh_{t-1} of a row depends only on that row's dG_t), one barrier, then the weight and bias
/// gradients over all T·B rows split by gate rows (each element keeps its one FMA chain over the rows in order) and
/// dX split by rows. Peephole gradients sum over rows, so networks with peepholes stay on one thread.
/// </summary>
internal sealed class SplitBackward : ITeamJob
{
    private RecurrentOptions o = null!;
    private PackedLayer w = null!;
    private TrainingTrace trace = null!;
    private int dir, steps, batch, slot, stateOffset;
    private float[] dy = [], dx = [], dhn = [], dcn = [], dh0 = [], dc0 = [], dGates = [], hPrev = [];
    private float[] dWih = [], dWhh = [], dBih = [], dBhh = [];
    private SimdPath path;

    public static void Run(Team team, RecurrentOptions o, PackedLayer w, int dir, int steps, int batch, TrainingTrace trace, int slot, float[] dy, float[] dx,
        ReadOnlySpan<float> dhn, ReadOnlySpan<float> dcn, float[] dh0, float[] dc0, int stateOffset, SequencePass.Gradients g, SimdPath path)
    {
        int h = o.HiddenSize, rows = steps * batch;
        var job = new SplitBackward
        {
            o = o, w = w, trace = trace, dir = dir, steps = steps, batch = batch, slot = slot, stateOffset = stateOffset, dy = dy, dx = dx,
            dhn = dhn.IsEmpty ? [] : dhn.Slice(stateOffset, batch * h).ToArray(), dcn = dcn.IsEmpty ? [] : dcn.Slice(stateOffset, batch * h).ToArray(),
            dh0 = dh0, dc0 = dc0, dWih = g.DWih, dWhh = g.DWhh, dBih = g.DBih, dBhh = g.DBhh, path = path,
            dGates = ArrayPool<float>.Shared.Rent(rows * o.Gates * h), hPrev = ArrayPool<float>.Shared.Rent(rows * h), size = team.Size,
        };
        try
        {
            team.Run(job);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(job.dGates);
            ArrayPool<float>.Shared.Return(job.hPrev);
        }
    }

    private int size;

    /// <summary>Every member's rows back through time; then the gradients over all rows.</summary>
    public int Phases => 2;

    public void Run(int member, int phase)
    {
        int h = o.HiddenSize, gh = o.Gates * h, ldy = o.OutputSize, inSize = w.InputWeights.Columns, b = batch;
        bool lstm = o.Cell == CellKind.Lstm;
        float[] x = trace.LayerInputs[slot / o.Directions], y = trace.LayerOutputs[slot / o.Directions], gates = trace.Gates[slot], c = trace.Cells[slot];

        if (phase == 1)
        {
            Gradients(member, x);
            return;
        }

        // Through time, this member's rows [b0, b0 + nb).
        int b0 = b * member / size, nb = (b * (member + 1) / size) - b0;
        float[] dh = new float[nb * h], dhTotal = new float[nb * h], dc = new float[nb * h];
        if (dhn.Length > 0) dhn.AsSpan(b0 * h, nb * h).CopyTo(dh);
        if (dcn.Length > 0) dcn.AsSpan(b0 * h, nb * h).CopyTo(dc);
        for (int s = steps - 1; s >= 0; s--)
        {
            int t = dir == 0 ? s : steps - 1 - s, tPrev = dir == 0 ? t - 1 : t + 1;
            for (int r = 0; r < nb; r++)
            {
                int row = (t * b) + b0 + r;
                System.Numerics.Tensors.TensorPrimitives.Add(dy.AsSpan((row * ldy) + (dir * h), h), dh.AsSpan(r * h, h), dhTotal.AsSpan(r * h, h));
                ReadOnlySpan<float> hp = s == 0 ? trace.H0.AsSpan(stateOffset + ((b0 + r) * h), h) : y.AsSpan((((tPrev * b) + b0 + r) * ldy) + (dir * h), h);
                hp.CopyTo(hPrev.AsSpan(row * h, h));
            }
            Span<float> dgt = dGates.AsSpan(((t * b) + b0) * gh, nb * gh);
            ReadOnlySpan<float> gt = gates.AsSpan(((t * b) + b0) * gh, nb * gh);
            if (lstm)
            {
                ReadOnlySpan<float> cPrev = s == 0 ? trace.C0.AsSpan(stateOffset + (b0 * h), nb * h) : c.AsSpan(((tPrev * b) + b0) * h, nb * h);
                LstmCell.Backward(gt, nb, h, cPrev, c.AsSpan(((t * b) + b0) * h, nb * h), dhTotal, dc, dgt, dc, o.CellOptions, path: path);
            }
            else
            {
                for (int r = 0; r < nb; r++)
                {
                    RnnCell.Backward(y.AsSpan((((t * b) + b0 + r) * ldy) + (dir * h), h), dhTotal.AsSpan(r * h, h), dgt.Slice(r * h, h), path);
                }
            }
            Gemm.MultiplyByWeights(dgt, nb, w.RecurrentWeights, dh, path: path); // dh_{t-1} = dG_t·W_hh
        }
        dh.CopyTo(dh0.AsSpan(stateOffset + (b0 * h), nb * h));
        if (lstm)
        {
            dc.CopyTo(dc0.AsSpan(stateOffset + (b0 * h), nb * h));
        }
    }

    private void Gradients(int member, float[] x)
    {
        int h = o.HiddenSize, gh = o.Gates * h, inSize = w.InputWeights.Columns, b = batch;

        // Over all T·B rows: gate rows [n0, n1) of dW_ih, dW_hh and the biases; rows [r0, r1) of dX.
        int m = steps * b;
        int n0 = Split(gh, member, size), n1 = Split(gh, member + 1, size);
        if (n1 > n0)
        {
            Gemm.AccumulateWeightGradient(dGates.AsSpan(n0), gh, x, inSize, m, n1 - n0, inSize, dWih.AsSpan(n0 * inSize, (n1 - n0) * inSize), path); // dW_ih += dGᵀ·X
            Gemm.AccumulateWeightGradient(dGates.AsSpan(n0), gh, hPrev, h, m, n1 - n0, h, dWhh.AsSpan(n0 * h, (n1 - n0) * h), path);           // dW_hh += dGᵀ·H_prev
            for (int r = 0; r < m; r++)
            {
                ReadOnlySpan<float> part = dGates.AsSpan((r * gh) + n0, n1 - n0);
                System.Numerics.Tensors.TensorPrimitives.Add(dBih.AsSpan(n0, n1 - n0), part, dBih.AsSpan(n0, n1 - n0)); // db = Σ_rows dG
                System.Numerics.Tensors.TensorPrimitives.Add(dBhh.AsSpan(n0, n1 - n0), part, dBhh.AsSpan(n0, n1 - n0));
            }
        }
        int r0 = (int)((long)m * member / size), r1 = (int)((long)m * (member + 1) / size);
        Gemm.MultiplyByWeights(dGates.AsSpan(r0 * gh), r1 - r0, gh, w.InputWeights, dx.AsSpan(r0 * inSize), inSize, accumulate: true, path: path); // dX += dG·W_ih
    }

    // Gate-row boundaries in whole 16-column panels, so each member's dW block starts on a panel.
    private static int Split(int n, int member, int size) => Math.Min(n, (int)((long)((n + 15) / 16) * member / size) * 16);
}
