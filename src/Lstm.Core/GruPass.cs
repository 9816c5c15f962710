using Lstm.Simd;

namespace Lstm.Core;

/// <summary>
/// The GRU's part of <see cref="SequencePass"/> and of the stream step: the recurrent GEMM into a buffer of its own
/// (not added to the input side's gates as the LSTM's is: r multiplies only the recurrent part of n), then the fused
/// cell. With linear_before_reset = 0 a step is two passes around a second, H-column GEMM of r⊙h' by W_hn.
/// The backward pass keeps two gradient blocks per row: the input side's (dW_ih, db_ih, dx) and the recurrent side's
/// (dW_hh, db_hh, dh'), which differ in the n block.
/// </summary>
internal static class GruPass
{
    /// <summary>
    /// One step for <paramref name="nb"/> rows. <paramref name="gates"/> [nb, 3H] holds the input projection and gets
    /// r, z, n; <paramref name="hidden"/> [nb, 3H] is scratch for the recurrent product; <paramref name="saved"/>
    /// [nb, H] gets what the backward pass reads (W_hn h' + b_hn, or r⊙h'), or is empty when nothing reads it.
    /// </summary>
    public static void Step(RecurrentOptions o, PackedLayer w, int nb, ReadOnlySpan<float> hPrev, int ldhPrev, Span<float> gates,
        Span<float> hidden, Span<float> saved, Span<float> h, int ldh, SimdPath path)
    {
        int hs = o.HiddenSize, gh = 3 * hs;
        hPrev = Rows(hPrev, nb, hs, ldhPrev);
        h = Rows(h, nb, hs, ldh);
        if (o.LinearBeforeReset)
        {
            w.RecurrentWeights.Multiply(hPrev, nb, ldhPrev, hidden, gh, accumulate: false, path);                       // H = h'·W_hhᵀ
            GruCell.Forward(gates, hidden, w.HiddenBias, nb, hs, hPrev, ldhPrev, h, ldh, saved, path);
            return;
        }
        w.ResetGateWeights!.Multiply(hPrev, nb, ldhPrev, hidden, gh, accumulate: false, path);                         // H_rz = h'·W_hrzᵀ
        GruCell.ForwardResetGates(gates, hidden, nb, hs, hPrev, ldhPrev, saved, path);                                 // r, z; r⊙h'
        w.CandidateWeights!.Multiply(saved, nb, hs, hidden[(2 * hs)..], gh, accumulate: false, path);                  // H_n = (r⊙h')·W_hnᵀ
        GruCell.ForwardCandidate(gates, hidden, w.HiddenBias, nb, hs, hPrev, ldhPrev, h, ldh, path);                   // n, h
    }

    /// <summary>
    /// One step back for <paramref name="nb"/> rows: fills their dGates and dHidden ([nb, 3H] each) and sets
    /// <paramref name="dhPrev"/> to the whole gradient reaching h'. <paramref name="scratch"/> is [nb, H] (linear_before_reset = 0).
    /// </summary>
    public static void BackwardStep(RecurrentOptions o, PackedLayer w, int nb, ReadOnlySpan<float> gates, ReadOnlySpan<float> saved,
        ReadOnlySpan<float> hPrev, int ldhPrev, ReadOnlySpan<float> dh, Span<float> dGates, Span<float> dHidden, Span<float> dhPrev,
        Span<float> scratch, SimdPath path)
    {
        int hs = o.HiddenSize, gh = 3 * hs;
        hPrev = Rows(hPrev, nb, hs, ldhPrev);
        if (o.LinearBeforeReset)
        {
            GruCell.Backward(gates, saved, nb, hs, hPrev, ldhPrev, dh, dGates, dHidden, dhPrev, path);                  // dh' = dh⊙z
            Gemm.MultiplyByWeights(dHidden, nb, gh, w.RecurrentWeights.Float, dhPrev, hs, accumulate: true, path);       //     + dH·W_hh
            return;
        }
        GruCell.BackwardCandidate(gates, nb, hs, hPrev, ldhPrev, dh, dGates, dHidden, dhPrev, path);                   // z, n; dh' = dh⊙z
        Gemm.MultiplyByWeights(dHidden[(2 * hs)..], nb, gh, w.CandidateWeights!.Float, scratch, hs, accumulate: false, path); // d(r⊙h') = dG_n·W_hn
        GruCell.BackwardResetGates(gates, nb, hs, hPrev, ldhPrev, scratch, dGates, dHidden, dhPrev, path);              // r; dh' += d(r⊙h')⊙r
        Gemm.MultiplyByWeights(dHidden, nb, gh, w.ResetGateWeights!.Float, dhPrev, hs, accumulate: true, path);         //     + dH_rz·W_hrz
    }

    /// <summary>
    /// linear_before_reset = 0 on a thread's hidden units, first half of a step: r and z of the slice's units and their
    /// r⊙h', copied into columns Start .. of <paramref name="resetAll"/> [nb, H], which the second half reads whole
    /// (after a barrier). <paramref name="hidden"/> is [nb, 3·Count], <paramref name="resetOwn"/> [nb, Count] scratch.
    /// </summary>
    public static void SliceResetGates(Threading.HiddenSlice s, int nb, int hs, ReadOnlySpan<float> hPrev, int ldhPrev, Span<float> gates,
        Span<float> hidden, Span<float> resetOwn, Span<float> resetAll, SimdPath path)
    {
        int n = s.Count;
        hPrev = Rows(hPrev, nb, hs, ldhPrev);
        s.ResetGateWeights!.Multiply(hPrev, nb, ldhPrev, hidden, 3 * n, accumulate: false, path);                 // H_rz,j = h'·W_hrz,jᵀ
        GruCell.ForwardResetGates(gates, hidden, nb, n, hPrev[s.Start..], ldhPrev, resetOwn, path);
        for (int r = 0; r < nb; r++)
        {
            resetOwn.Slice(r * n, n).CopyTo(resetAll.Slice((r * hs) + s.Start, n));
        }
    }

    /// <summary>The second half: the slice's n block from all of r⊙h' (<paramref name="resetAll"/> [nb, H]), then n and h of its units.</summary>
    public static void SliceCandidate(Threading.HiddenSlice s, int nb, int hs, ReadOnlySpan<float> hPrev, int ldhPrev, Span<float> gates,
        Span<float> hidden, ReadOnlySpan<float> resetAll, Span<float> h, int ldh, SimdPath path)
    {
        int n = s.Count;
        s.CandidateWeights!.Multiply(resetAll, nb, hs, hidden[(2 * n)..], 3 * n, accumulate: false, path);          // H_n,j = (r⊙h')·W_hn,jᵀ
        GruCell.ForwardCandidate(gates, hidden, s.HiddenBias, nb, n, Rows(hPrev, nb, hs, ldhPrev)[s.Start..], ldhPrev, Rows(h, nb, n, ldh), ldh, path);
    }

    // A strided [rows, H] view cut to its last element: h' and h_t of one sequence are views into the same output
    // buffer, disjoint in their elements but not in their spans' extents unless cut so.
    private static Span<float> Rows(Span<float> s, int rows, int hs, int ld) => s[..(rows == 0 ? 0 : ((rows - 1) * ld) + hs)];

    private static ReadOnlySpan<float> Rows(ReadOnlySpan<float> s, int rows, int hs, int ld) => s[..(rows == 0 ? 0 : ((rows - 1) * ld) + hs)];

    /// <summary>
    /// dW_hh rows [n0, n1) over all m rows: dW_hh += dHᵀ·H_prev, except that with linear_before_reset = 0 the n rows
    /// (2H ..) multiply r⊙h' (<paramref name="resetHidden"/>, [m, H]) instead of h'. Each element one FMA chain over
    /// the rows in order, whatever the split.
    /// </summary>
    public static void RecurrentWeightGradient(RecurrentOptions o, int m, int n0, int n1, ReadOnlySpan<float> dHidden, ReadOnlySpan<float> hPrevAll,
        ReadOnlySpan<float> resetHidden, float[] dWhh, SimdPath path)
    {
        int hs = o.HiddenSize, gh = 3 * hs, split = o.LinearBeforeReset ? gh : 2 * hs;
        if (m == 0)
        {
            return; // no rows (T = 0): nothing to add, and the gradient buffers may be empty
        }
        if (n0 < split)
        {
            int end = Math.Min(n1, split);
            Gemm.AccumulateWeightGradient(dHidden[n0..], gh, hPrevAll, hs, m, end - n0, hs, dWhh.AsSpan(n0 * hs, (end - n0) * hs), path);
        }
        if (n1 > split)
        {
            int start = Math.Max(n0, split);
            Gemm.AccumulateWeightGradient(dHidden[start..], gh, resetHidden, hs, m, n1 - start, hs, dWhh.AsSpan(start * hs, (n1 - start) * hs), path);
        }
    }
}
