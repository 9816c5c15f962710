using System.Runtime.InteropServices;
using Lstm.Simd.Activations;
using Lstm.Simd.Vectors;

namespace Lstm.Simd;

/// <summary>The vanilla (Elman) RNN cell: h_t = tanh(W_ih·x + b_ih + W_hh·h_{t-1} + b_hh), elementwise after the GEMMs.</summary>
public static class RnnCell
{
    /// <summary>h = tanh(pre); <paramref name="pre"/> and <paramref name="h"/> may be the same span.</summary>
    public static void Forward(ReadOnlySpan<float> pre, Span<float> h, SimdPath? path = null) =>
        UnaryLoop.Run<TanhRr2P6Div>(pre, h, SimdPaths.Resolve(path));

    /// <summary>dPre = dh ⊙ (1 - h²), given the forward output h. <paramref name="dPre"/> may be <paramref name="dh"/> itself.</summary>
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
        TVec one = TVec.Create(1f);
        for (; i + (nuint)TVec.Count <= n; i += (nuint)TVec.Count)
        {
            TVec hv = TVec.Load(ref h, i);
            TVec.Store(TVec.Load(ref dh, i) * (one - (hv * hv)), ref dPre, i);
        }
        return i;
    }
}
