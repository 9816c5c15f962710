using System.Runtime.InteropServices;
using Lstm.Simd.Cells;
using Lstm.Simd.Vectors;

namespace Lstm.Simd;

/// <summary>
/// The fused GRU cell over a batch, forward and backward, in PyTorch's gate order r, z, n. The input side
/// <c>gates</c> = x·W_ihᵀ + b (r and z with b_ih + b_hh folded, n with b_in only) and the recurrent side
/// <c>hiddenGates</c> = h'·W_hhᵀ (no bias) arrive apart, because r multiplies only the recurrent part of n.
/// <para>
/// linear_before_reset = 1 (PyTorch; <see cref="Forward"/>): r = σ(G_r + H_r), z = σ(G_z + H_z),
/// n = tanh(G_n + r⊙(H_n + b_hn)), h = (1 − z)⊙n + z⊙h', one pass. linear_before_reset = 0 (ONNX's default):
/// n = tanh(G_n + W_hn(r⊙h') + b_hn) needs r before its recurrent GEMM, so a step is <see cref="ForwardResetGates"/>
/// (r, z and r⊙h'), the caller's GEMM of r⊙h' by W_hn into the n block of <c>hiddenGates</c>, then
/// <see cref="ForwardCandidate"/>. The activations overwrite the gates; with the h' the caller keeps and the one
/// saved [B, H] tensor (W_hn h' + b_hn, or r⊙h'), they are exactly what the backward pass reads.
/// </para>
/// </summary>
public static class GruCell
{
    /// <summary>One step forward, linear_before_reset = 1 (PyTorch's <c>nn.GRU</c>).</summary>
    /// <param name="gates">[B, 3H] input-side pre-activations; overwritten with r, z, n.</param>
    /// <param name="hiddenGates">[B, 3H] h'·W_hhᵀ.</param>
    /// <param name="hiddenBias">[H] b_hn.</param>
    /// <param name="batch">B.</param>
    /// <param name="hidden">H.</param>
    /// <param name="hPrev">[B, ldhPrev] h' (the first H of each row).</param>
    /// <param name="ldhPrev">Row stride of <paramref name="hPrev"/>.</param>
    /// <param name="h">[B, ldh] h_t, written (the first H of each row). May be <paramref name="hPrev"/> itself (same stride).</param>
    /// <param name="ldh">Row stride of <paramref name="h"/>.</param>
    /// <param name="saved">[B, H] written with W_hn h' + b_hn for the backward pass, or empty (inference).</param>
    /// <param name="path">The SIMD path; <see cref="SimdPaths.Default"/> if null.</param>
    public static void Forward(Span<float> gates, ReadOnlySpan<float> hiddenGates, ReadOnlySpan<float> hiddenBias, int batch, int hidden,
        ReadOnlySpan<float> hPrev, int ldhPrev, Span<float> h, int ldh, Span<float> saved = default, SimdPath? path = null)
    {
        SimdPath p = SimdPaths.Resolve(path);
        CheckForward(gates, hiddenGates, hiddenBias, batch, hidden, hPrev, ldhPrev, h, ldh);
        bool save = !saved.IsEmpty;
        if (save)
        {
            Check.Length(saved, (long)batch * hidden, nameof(saved), batch, hidden);
        }
        GruCellKernel.Forward args = ForwardArgs(gates, hiddenGates, hiddenBias, hPrev, ldhPrev, h, ldh, saved);
        for (nuint row = 0; row < (nuint)batch; row++)
        {
            nuint j = 0, n = (nuint)hidden;
            if (p == SimdPath.Avx512)
            {
                j = GruCellKernel.ForwardRow<V512>(ref args, row, n, j, save);
            }
            if (p >= SimdPath.Avx2)
            {
                j = GruCellKernel.ForwardRow<V256>(ref args, row, n, j, save);
            }
            GruCellKernel.ForwardRow<VScalar>(ref args, row, n, j, save);
        }
    }

    /// <summary>
    /// linear_before_reset = 0, first pass of a step: r and z from <paramref name="gates"/> + <paramref name="hiddenGates"/>
    /// (its r and z blocks; the n block is not read), written into the r and z blocks of <paramref name="gates"/>,
    /// and r⊙h' into <paramref name="resetHidden"/> [B, H] (the candidate GEMM's input, kept for the backward pass).
    /// </summary>
    public static void ForwardResetGates(Span<float> gates, ReadOnlySpan<float> hiddenGates, int batch, int hidden,
        ReadOnlySpan<float> hPrev, int ldhPrev, Span<float> resetHidden, SimdPath? path = null)
    {
        SimdPath p = SimdPaths.Resolve(path);
        CheckForward(gates, hiddenGates, default, batch, hidden, hPrev, ldhPrev, default, -1);
        Check.Length(resetHidden, (long)batch * hidden, nameof(resetHidden), batch, hidden);
        Check.Disjoint(hPrev, nameof(hPrev), resetHidden, nameof(resetHidden));
        GruCellKernel.Forward args = ForwardArgs(gates, hiddenGates, default, hPrev, ldhPrev, default, 0, resetHidden);
        for (nuint row = 0; row < (nuint)batch; row++)
        {
            nuint j = 0, n = (nuint)hidden;
            if (p == SimdPath.Avx512)
            {
                j = GruCellKernel.ResetGatesRow<V512>(ref args, row, n, j);
            }
            if (p >= SimdPath.Avx2)
            {
                j = GruCellKernel.ResetGatesRow<V256>(ref args, row, n, j);
            }
            GruCellKernel.ResetGatesRow<VScalar>(ref args, row, n, j);
        }
    }

    /// <summary>
    /// linear_before_reset = 0, second pass: n = tanh(G_n + (H_n + b_hn)) where the n block of
    /// <paramref name="hiddenGates"/> holds (r⊙h')·W_hnᵀ, and h = (1 − z)⊙n + z⊙h'. Writes n into <paramref name="gates"/>.
    /// </summary>
    public static void ForwardCandidate(Span<float> gates, ReadOnlySpan<float> hiddenGates, ReadOnlySpan<float> hiddenBias, int batch, int hidden,
        ReadOnlySpan<float> hPrev, int ldhPrev, Span<float> h, int ldh, SimdPath? path = null)
    {
        SimdPath p = SimdPaths.Resolve(path);
        CheckForward(gates, hiddenGates, hiddenBias, batch, hidden, hPrev, ldhPrev, h, ldh);
        GruCellKernel.Forward args = ForwardArgs(gates, hiddenGates, hiddenBias, hPrev, ldhPrev, h, ldh, default);
        for (nuint row = 0; row < (nuint)batch; row++)
        {
            nuint j = 0, n = (nuint)hidden;
            if (p == SimdPath.Avx512)
            {
                j = GruCellKernel.CandidateRow<V512>(ref args, row, n, j);
            }
            if (p >= SimdPath.Avx2)
            {
                j = GruCellKernel.CandidateRow<V256>(ref args, row, n, j);
            }
            GruCellKernel.CandidateRow<VScalar>(ref args, row, n, j);
        }
    }

    /// <summary>One step backward, linear_before_reset = 1.</summary>
    /// <param name="gates">[B, 3H] r, z, n left by <see cref="Forward"/>.</param>
    /// <param name="saved">[B, H] W_hn h' + b_hn saved by <see cref="Forward"/>.</param>
    /// <param name="batch">B.</param>
    /// <param name="hidden">H.</param>
    /// <param name="hPrev">[B, ldhPrev] h' of the forward step.</param>
    /// <param name="ldhPrev">Row stride of <paramref name="hPrev"/>.</param>
    /// <param name="dh">[B, H] the whole gradient reaching h_t.</param>
    /// <param name="dGates">[B, 3H] written: the gradient of the input side (for dW_ih, db_ih and dx).</param>
    /// <param name="dHiddenGates">[B, 3H] written: the gradient of the recurrent side h'·W_hhᵀ + b_hh (for dW_hh, db_hh and dh').</param>
    /// <param name="dhPrev">[B, H] written: dh⊙z, the part of dh' that does not pass through W_hh. May be <paramref name="dh"/> itself.</param>
    /// <param name="path">The SIMD path; <see cref="SimdPaths.Default"/> if null.</param>
    public static void Backward(ReadOnlySpan<float> gates, ReadOnlySpan<float> saved, int batch, int hidden, ReadOnlySpan<float> hPrev, int ldhPrev,
        ReadOnlySpan<float> dh, Span<float> dGates, Span<float> dHiddenGates, Span<float> dhPrev, SimdPath? path = null)
    {
        SimdPath p = SimdPaths.Resolve(path);
        CheckBackward(gates, batch, hidden, hPrev, ldhPrev, dh, dGates, dHiddenGates, dhPrev);
        Check.Length(saved, (long)batch * hidden, nameof(saved), batch, hidden);
        GruCellKernel.Backward args = BackwardArgs(gates, saved, hPrev, ldhPrev, dh, default, dGates, dHiddenGates, dhPrev);
        for (nuint row = 0; row < (nuint)batch; row++)
        {
            nuint j = 0, n = (nuint)hidden;
            if (p == SimdPath.Avx512)
            {
                j = GruCellKernel.BackwardRow<V512>(ref args, row, n, j);
            }
            if (p >= SimdPath.Avx2)
            {
                j = GruCellKernel.BackwardRow<V256>(ref args, row, n, j);
            }
            GruCellKernel.BackwardRow<VScalar>(ref args, row, n, j);
        }
    }

    /// <summary>
    /// linear_before_reset = 0, first backward pass: the z and n blocks of <paramref name="dGates"/> and
    /// <paramref name="dHiddenGates"/> (both get dG_n: the candidate's two sides are one sum), and dhPrev = dh⊙z.
    /// The caller then computes d(r⊙h') = dG_n·W_hn for <see cref="BackwardResetGates"/>.
    /// </summary>
    public static void BackwardCandidate(ReadOnlySpan<float> gates, int batch, int hidden, ReadOnlySpan<float> hPrev, int ldhPrev,
        ReadOnlySpan<float> dh, Span<float> dGates, Span<float> dHiddenGates, Span<float> dhPrev, SimdPath? path = null)
    {
        SimdPath p = SimdPaths.Resolve(path);
        CheckBackward(gates, batch, hidden, hPrev, ldhPrev, dh, dGates, dHiddenGates, dhPrev);
        GruCellKernel.Backward args = BackwardArgs(gates, default, hPrev, ldhPrev, dh, default, dGates, dHiddenGates, dhPrev);
        for (nuint row = 0; row < (nuint)batch; row++)
        {
            nuint j = 0, n = (nuint)hidden;
            if (p == SimdPath.Avx512)
            {
                j = GruCellKernel.CandidateBackwardRow<V512>(ref args, row, n, j);
            }
            if (p >= SimdPath.Avx2)
            {
                j = GruCellKernel.CandidateBackwardRow<V256>(ref args, row, n, j);
            }
            GruCellKernel.CandidateBackwardRow<VScalar>(ref args, row, n, j);
        }
    }

    /// <summary>
    /// linear_before_reset = 0, second backward pass, given <paramref name="dResetHidden"/> [B, H] = d(r⊙h') =
    /// dG_n·W_hn: the r blocks of <paramref name="dGates"/> and <paramref name="dHiddenGates"/>, and dhPrev += d(r⊙h')⊙r.
    /// </summary>
    public static void BackwardResetGates(ReadOnlySpan<float> gates, int batch, int hidden, ReadOnlySpan<float> hPrev, int ldhPrev,
        ReadOnlySpan<float> dResetHidden, Span<float> dGates, Span<float> dHiddenGates, Span<float> dhPrev, SimdPath? path = null)
    {
        SimdPath p = SimdPaths.Resolve(path);
        CheckBackward(gates, batch, hidden, hPrev, ldhPrev, dResetHidden, dGates, dHiddenGates, dhPrev, nameof(dResetHidden));
        Check.Disjoint(dResetHidden, nameof(dResetHidden), dhPrev, nameof(dhPrev)); // dhPrev accumulates
        GruCellKernel.Backward args = BackwardArgs(gates, default, hPrev, ldhPrev, default, dResetHidden, dGates, dHiddenGates, dhPrev);
        for (nuint row = 0; row < (nuint)batch; row++)
        {
            nuint j = 0, n = (nuint)hidden;
            if (p == SimdPath.Avx512)
            {
                j = GruCellKernel.ResetBackwardRow<V512>(ref args, row, n, j);
            }
            if (p >= SimdPath.Avx2)
            {
                j = GruCellKernel.ResetBackwardRow<V256>(ref args, row, n, j);
            }
            GruCellKernel.ResetBackwardRow<VScalar>(ref args, row, n, j);
        }
    }

    private static GruCellKernel.Forward ForwardArgs(Span<float> gates, ReadOnlySpan<float> hiddenGates, ReadOnlySpan<float> hiddenBias,
        ReadOnlySpan<float> hPrev, int ldhPrev, Span<float> h, int ldh, Span<float> saved) => new()
    {
        Gates = ref MemoryMarshal.GetReference(gates),
        Hidden = ref MemoryMarshal.GetReference(hiddenGates),
        HiddenBias = ref MemoryMarshal.GetReference(hiddenBias),
        HPrev = ref MemoryMarshal.GetReference(hPrev),
        H = ref MemoryMarshal.GetReference(h),
        Saved = ref MemoryMarshal.GetReference(saved),
        LdhPrev = ldhPrev,
        Ldh = ldh,
    };

    private static GruCellKernel.Backward BackwardArgs(ReadOnlySpan<float> gates, ReadOnlySpan<float> saved, ReadOnlySpan<float> hPrev, int ldhPrev,
        ReadOnlySpan<float> dh, ReadOnlySpan<float> dReset, Span<float> dGates, Span<float> dHiddenGates, Span<float> dhPrev) => new()
    {
        Gates = ref MemoryMarshal.GetReference(gates),
        Saved = ref MemoryMarshal.GetReference(saved),
        HPrev = ref MemoryMarshal.GetReference(hPrev),
        Dh = ref MemoryMarshal.GetReference(dh),
        DReset = ref MemoryMarshal.GetReference(dReset),
        DGates = ref MemoryMarshal.GetReference(dGates),
        DHidden = ref MemoryMarshal.GetReference(dHiddenGates),
        DhPrev = ref MemoryMarshal.GetReference(dhPrev),
        LdhPrev = ldhPrev,
    };

    // ldh < 0: the pass writes no h.
    private static void CheckForward(ReadOnlySpan<float> gates, ReadOnlySpan<float> hiddenGates, ReadOnlySpan<float> hiddenBias, int batch, int hidden,
        ReadOnlySpan<float> hPrev, int ldhPrev, ReadOnlySpan<float> h, int ldh)
    {
        Check.NonNegative(batch, nameof(batch));
        Check.NonNegative(hidden, nameof(hidden));
        long n = (long)batch * hidden;
        Check.Length(gates, 3 * n, nameof(gates), batch, 3L * hidden);
        Check.Length(hiddenGates, 3 * n, nameof(hiddenGates), batch, 3L * hidden);
        Check.Disjoint(gates, nameof(gates), hiddenGates, nameof(hiddenGates));
        Check.Matrix(hPrev, batch, hidden, ldhPrev, nameof(hPrev));
        if (ldh < 0)
        {
            return;
        }
        Check.Length(hiddenBias, hidden, nameof(hiddenBias), hidden);
        Check.Matrix(h, batch, hidden, ldh, nameof(h));
        // h_t overwrites h' lane by lane after reading it, so the very same rows are fine; any other overlap is not.
        if (!(ldh == ldhPrev && h.Overlaps(hPrev, out int offset) && offset == 0))
        {
            Check.Disjoint(hPrev, nameof(hPrev), h, nameof(h));
        }
        Check.Disjoint(gates, nameof(gates), h, nameof(h));
    }

    private static void CheckBackward(ReadOnlySpan<float> gates, int batch, int hidden, ReadOnlySpan<float> hPrev, int ldhPrev,
        ReadOnlySpan<float> dh, Span<float> dGates, Span<float> dHiddenGates, Span<float> dhPrev, string dhName = "dh")
    {
        Check.NonNegative(batch, nameof(batch));
        Check.NonNegative(hidden, nameof(hidden));
        long n = (long)batch * hidden;
        Check.Length(gates, 3 * n, nameof(gates), batch, 3L * hidden);
        Check.Matrix(hPrev, batch, hidden, ldhPrev, nameof(hPrev));
        Check.Length(dh, n, dhName, batch, hidden);
        Check.Length(dGates, 3 * n, nameof(dGates), batch, 3L * hidden);
        Check.Length(dHiddenGates, 3 * n, nameof(dHiddenGates), batch, 3L * hidden);
        Check.Length(dhPrev, n, nameof(dhPrev), batch, hidden);
        Check.Disjoint(dGates, nameof(dGates), dHiddenGates, nameof(dHiddenGates));
        Check.InPlaceOrDisjoint(dh, dhName, dhPrev, nameof(dhPrev));
    }
}
