using System.Runtime.CompilerServices;
using Lstm.Simd.Activations;
using Lstm.Simd.Vectors;

namespace Lstm.Simd.Cells;

/// <summary>
/// The GRU's elementwise passes after the gate GEMMs, written once over <see cref="IVec{TSelf}"/>. Gates are [B, 3H]
/// rows in PyTorch's order r, z, n; the recurrent product h'·W_hhᵀ arrives in a buffer of its own (the n block needs
/// it apart from the input side's: r multiplies only the recurrent part). Every value is computed by the same
/// operations on every path, so results agree bitwise.
/// </summary>
internal static class GruCellKernel
{
    public ref struct Forward
    {
        public ref float Gates;       // [B, 3H]: W_ih x + b in (r, z: b_ih + b_hh; n: b_in); r, z, n out
        public ref float Hidden;      // [B, 3H]: h'·W_hhᵀ (no bias); for linear_before_reset = 0 the n block is (r⊙h')·W_hnᵀ
        public ref float HiddenBias;  // [H]: b_hn
        public ref float HPrev;       // [B, ldhPrev]
        public ref float H;           // [B, ldh]
        public ref float Saved;       // [B, H]: W_hn h' + b_hn (before reset), or r⊙h' (reset gates pass); unused if !save
        public nint LdhPrev;
        public nint Ldh;
    }

    public ref struct Backward
    {
        public ref float Gates;        // [B, 3H] r, z, n kept by the forward pass
        public ref float Saved;        // [B, H] W_hn h' + b_hn (before reset)
        public ref float HPrev;        // [B, ldhPrev]
        public ref float Dh;           // [B, H] the whole gradient reaching h_t
        public ref float DReset;       // [B, H] (reset after): d(r⊙h') = dn_pre·W_hn
        public ref float DGates;       // [B, 3H] out: gradient of the input side's pre-activations
        public ref float DHidden;      // [B, 3H] out: gradient of the recurrent side's (W_hh's) pre-activations
        public ref float DhPrev;       // [B, H] out: dh⊙z (the direct path; the caller adds dHidden·W_hh)
        public nint LdhPrev;
    }

    // r, z, n and h' of linear_before_reset = 1: n = tanh(G_n + r⊙(H_n + b_hn)), h = n + z⊙(h' − n) = (1 − z)⊙n + z⊙h'.
    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
    public static nuint ForwardRow<TVec>(ref Forward a, nuint row, nuint hidden, nuint j, bool save)
        where TVec : struct, IVec<TVec>
    {
        nuint w = (nuint)TVec.Count, g0 = row * 3 * hidden, s0 = row * hidden, p0 = row * (nuint)a.LdhPrev, h0 = row * (nuint)a.Ldh;
        for (; j + w <= hidden; j += w)
        {
            TVec r = SigmoidRr2P6Div.Invoke(TVec.Load(ref a.Gates, g0 + j) + TVec.Load(ref a.Hidden, g0 + j));
            TVec z = SigmoidRr2P6Div.Invoke(TVec.Load(ref a.Gates, g0 + hidden + j) + TVec.Load(ref a.Hidden, g0 + hidden + j));
            TVec hn = TVec.Load(ref a.Hidden, g0 + (2 * hidden) + j) + TVec.Load(ref a.HiddenBias, j);      // W_hn h' + b_hn
            TVec n = TanhRr2P6Div.Invoke(TVec.Fma(r, hn, TVec.Load(ref a.Gates, g0 + (2 * hidden) + j))); // tanh(G_n + r⊙hn)
            TVec hp = TVec.Load(ref a.HPrev, p0 + j);
            TVec.Store(r, ref a.Gates, g0 + j);
            TVec.Store(z, ref a.Gates, g0 + hidden + j);
            TVec.Store(n, ref a.Gates, g0 + (2 * hidden) + j);
            if (save)
            {
                TVec.Store(hn, ref a.Saved, s0 + j);
            }
            TVec.Store(TVec.Fma(z, hp - n, n), ref a.H, h0 + j);
        }
        return j;
    }

    // linear_before_reset = 0, first pass: r and z, and r⊙h' for the candidate's recurrent GEMM.
    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
    public static nuint ResetGatesRow<TVec>(ref Forward a, nuint row, nuint hidden, nuint j)
        where TVec : struct, IVec<TVec>
    {
        nuint w = (nuint)TVec.Count, g0 = row * 3 * hidden, s0 = row * hidden, p0 = row * (nuint)a.LdhPrev;
        for (; j + w <= hidden; j += w)
        {
            TVec r = SigmoidRr2P6Div.Invoke(TVec.Load(ref a.Gates, g0 + j) + TVec.Load(ref a.Hidden, g0 + j));
            TVec z = SigmoidRr2P6Div.Invoke(TVec.Load(ref a.Gates, g0 + hidden + j) + TVec.Load(ref a.Hidden, g0 + hidden + j));
            TVec.Store(r, ref a.Gates, g0 + j);
            TVec.Store(z, ref a.Gates, g0 + hidden + j);
            TVec.Store(r * TVec.Load(ref a.HPrev, p0 + j), ref a.Saved, s0 + j);
        }
        return j;
    }

    // linear_before_reset = 0, second pass: n = tanh(G_n + (W_hn(r⊙h') + b_hn)), h = n + z⊙(h' − n).
    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
    public static nuint CandidateRow<TVec>(ref Forward a, nuint row, nuint hidden, nuint j)
        where TVec : struct, IVec<TVec>
    {
        nuint w = (nuint)TVec.Count, g0 = row * 3 * hidden, p0 = row * (nuint)a.LdhPrev, h0 = row * (nuint)a.Ldh;
        for (; j + w <= hidden; j += w)
        {
            TVec q = TVec.Load(ref a.Hidden, g0 + (2 * hidden) + j) + TVec.Load(ref a.HiddenBias, j);
            TVec n = TanhRr2P6Div.Invoke(TVec.Load(ref a.Gates, g0 + (2 * hidden) + j) + q);
            TVec z = TVec.Load(ref a.Gates, g0 + hidden + j);
            TVec.Store(n, ref a.Gates, g0 + (2 * hidden) + j);
            TVec.Store(TVec.Fma(z, TVec.Load(ref a.HPrev, p0 + j) - n, n), ref a.H, h0 + j);
        }
        return j;
    }

    // linear_before_reset = 1. With dn = dh⊙(1 − z): dG_n = dn⊙(1 − n²), dG_z = dh⊙(h' − n)⊙z(1 − z),
    // dG_r = dG_n⊙hn⊙r(1 − r); the recurrent side sees dG_r, dG_z and dG_n⊙r (r scales its n block); dh' = dh⊙z + ….
    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
    public static nuint BackwardRow<TVec>(ref Backward a, nuint row, nuint hidden, nuint j)
        where TVec : struct, IVec<TVec>
    {
        nuint w = (nuint)TVec.Count, g0 = row * 3 * hidden, s0 = row * hidden, p0 = row * (nuint)a.LdhPrev;
        TVec one = TVec.Create(1f);
        for (; j + w <= hidden; j += w)
        {
            TVec r = TVec.Load(ref a.Gates, g0 + j);
            TVec z = TVec.Load(ref a.Gates, g0 + hidden + j);
            TVec n = TVec.Load(ref a.Gates, g0 + (2 * hidden) + j);
            TVec dh = TVec.Load(ref a.Dh, s0 + j);
            TVec dGn = dh * (one - z) * (one - (n * n));
            TVec dGz = dh * (TVec.Load(ref a.HPrev, p0 + j) - n) * z * (one - z);
            TVec dGr = dGn * TVec.Load(ref a.Saved, s0 + j) * r * (one - r);
            TVec.Store(dGr, ref a.DGates, g0 + j);
            TVec.Store(dGz, ref a.DGates, g0 + hidden + j);
            TVec.Store(dGn, ref a.DGates, g0 + (2 * hidden) + j);
            TVec.Store(dGr, ref a.DHidden, g0 + j);
            TVec.Store(dGz, ref a.DHidden, g0 + hidden + j);
            TVec.Store(dGn * r, ref a.DHidden, g0 + (2 * hidden) + j);
            TVec.Store(dh * z, ref a.DhPrev, s0 + j);
        }
        return j;
    }

    // linear_before_reset = 0, first backward pass: z and n (the candidate's recurrent pre-activation is the same sum
    // as its input side's, so both get dG_n), and the direct dh' = dh⊙z.
    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
    public static nuint CandidateBackwardRow<TVec>(ref Backward a, nuint row, nuint hidden, nuint j)
        where TVec : struct, IVec<TVec>
    {
        nuint w = (nuint)TVec.Count, g0 = row * 3 * hidden, s0 = row * hidden, p0 = row * (nuint)a.LdhPrev;
        TVec one = TVec.Create(1f);
        for (; j + w <= hidden; j += w)
        {
            TVec z = TVec.Load(ref a.Gates, g0 + hidden + j);
            TVec n = TVec.Load(ref a.Gates, g0 + (2 * hidden) + j);
            TVec dh = TVec.Load(ref a.Dh, s0 + j);
            TVec dGn = dh * (one - z) * (one - (n * n));
            TVec dGz = dh * (TVec.Load(ref a.HPrev, p0 + j) - n) * z * (one - z);
            TVec.Store(dGz, ref a.DGates, g0 + hidden + j);
            TVec.Store(dGn, ref a.DGates, g0 + (2 * hidden) + j);
            TVec.Store(dGz, ref a.DHidden, g0 + hidden + j);
            TVec.Store(dGn, ref a.DHidden, g0 + (2 * hidden) + j);
            TVec.Store(dh * z, ref a.DhPrev, s0 + j);
        }
        return j;
    }

    // linear_before_reset = 0, second backward pass, given d(r⊙h') = dG_n·W_hn: dG_r = d(r⊙h')⊙h'⊙r(1 − r) and
    // dh' += d(r⊙h')⊙r.
    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
    public static nuint ResetBackwardRow<TVec>(ref Backward a, nuint row, nuint hidden, nuint j)
        where TVec : struct, IVec<TVec>
    {
        nuint w = (nuint)TVec.Count, g0 = row * 3 * hidden, s0 = row * hidden, p0 = row * (nuint)a.LdhPrev;
        TVec one = TVec.Create(1f);
        for (; j + w <= hidden; j += w)
        {
            TVec r = TVec.Load(ref a.Gates, g0 + j);
            TVec da = TVec.Load(ref a.DReset, s0 + j);
            TVec dGr = da * TVec.Load(ref a.HPrev, p0 + j) * r * (one - r);
            TVec.Store(dGr, ref a.DGates, g0 + j);
            TVec.Store(dGr, ref a.DHidden, g0 + j);
            TVec.Store(TVec.Fma(da, r, TVec.Load(ref a.DhPrev, s0 + j)), ref a.DhPrev, s0 + j);
        }
        return j;
    }
}
