using System.Runtime.InteropServices;
using Lstm.Simd.Activations;
using Lstm.Simd.Vectors;

namespace Lstm.Simd;

/// <summary>
/// The Elman RNN cell with ReLU (PyTorch's <c>nn.RNN(nonlinearity='relu')</c>): h_t = max(0, W_ih·x + b_ih + W_hh·h_{t-1} + b_hh),
/// elementwise after the GEMMs, with PyTorch's NaN and −0 behaviour (<c>relu</c> keeps NaN; relu(−0) = −0).
/// </summary>
public static class ReluRnnCell
{
    /// <summary>h = max(0, pre), NaN kept; <paramref name="pre"/> and <paramref name="h"/> may be the same span.</summary>
    public static void Forward(ReadOnlySpan<float> pre, Span<float> h, SimdPath? path = null)
    {
        Check.SameLength(pre, nameof(pre), h, nameof(h));
        UnaryLoop.Run<ReluKeepNaN>(pre, h, SimdPaths.Resolve(path));
    }

    /// <summary>
    /// dPre = h ≤ 0 ? 0 : dh, given the forward output h: PyTorch's <c>threshold_backward(dh, h, 0)</c>, so a NaN h
    /// passes its gradient on as PyTorch does. <paramref name="dPre"/> may be <paramref name="dh"/> itself.
    /// </summary>
    public static void Backward(ReadOnlySpan<float> h, ReadOnlySpan<float> dh, Span<float> dPre, SimdPath? path = null)
    {
        SimdPath p = SimdPaths.Resolve(path);
        Check.SameLength(h, nameof(h), dh, nameof(dh));
        Check.SameLength(h, nameof(h), dPre, nameof(dPre));
        Check.InPlaceOrDisjoint(dh, nameof(dh), dPre, nameof(dPre));
        Check.Disjoint(h, nameof(h), dPre, nameof(dPre));
        ref float hr = ref MemoryMarshal.GetReference(h);
        ref float dhr = ref MemoryMarshal.GetReference(dh);
        ref float dr = ref MemoryMarshal.GetReference(dPre);
        nuint i = 0, n = (nuint)h.Length;
        if (VectorLadder.Has512(p))
        {
            i = BackwardBody<V512>(ref hr, ref dhr, ref dr, i, n);
        }
        if (VectorLadder.Has256(p))
        {
            i = BackwardBody<V256>(ref hr, ref dhr, ref dr, i, n);
        }
        if (VectorLadder.Has128(p))
        {
            i = BackwardBody<V128>(ref hr, ref dhr, ref dr, i, n);
        }
        BackwardBody<VScalar>(ref hr, ref dhr, ref dr, i, n);
    }

    private static nuint BackwardBody<TVec>(ref float h, ref float dh, ref float dPre, nuint i, nuint n)
        where TVec : struct, IVec<TVec>
    {
        TVec zero = TVec.Create(0f);
        for (; i + (nuint)TVec.Count <= n; i += (nuint)TVec.Count)
        {
            // 0 < h is false for h ≤ 0 (−0 included) and for NaN; PyTorch zeroes only h ≤ 0, so NaN takes the gradient.
            TVec hv = TVec.Load(ref h, i);
            TVec passes = TVec.Or(TVec.LessThan(zero, hv), IsNaN(hv));
            TVec.Store(TVec.Select(passes, TVec.Load(ref dh, i), zero), ref dPre, i);
        }
        return i;
    }

    // All ones where x is NaN: the one value with neither −∞ < x nor x < +∞ (IVec has no equality compare).
    private static TVec IsNaN<TVec>(TVec x)
        where TVec : struct, IVec<TVec>
    {
        TVec ordered = TVec.Or(TVec.LessThan(TVec.Create(float.NegativeInfinity), x), TVec.LessThan(x, TVec.Create(float.PositiveInfinity)));
        return TVec.Select(ordered, TVec.Create(0f), AllOnes<TVec>());
    }

    private static TVec AllOnes<TVec>()
        where TVec : struct, IVec<TVec> => TVec.LessThan(TVec.Create(0f), TVec.Create(1f));
}
