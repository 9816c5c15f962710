using System.Runtime.InteropServices;
using Lstm.Simd.Vectors;

namespace Lstm.Simd.Activations;

/// <summary>
/// The loop driver for two-input elementwise operators (the cells' backward passes): whole vectors of the chosen width,
/// then narrower vectors, then scalars, as <see cref="UnaryLoop"/>. The caller checks the spans (their names are its own).
/// </summary>
internal static class BinaryLoop
{
    public static void Run<TOp>(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y, SimdPath path)
        where TOp : IBinaryOperator
    {
        ref float ar = ref MemoryMarshal.GetReference(a);
        ref float br = ref MemoryMarshal.GetReference(b);
        ref float yr = ref MemoryMarshal.GetReference(y);
        nuint i = 0, n = (nuint)y.Length;
        if (VectorLadder.Has512(path))
        {
            i = Body<TOp, V512>(ref ar, ref br, ref yr, i, n);
        }
        if (VectorLadder.Has256(path))
        {
            i = Body<TOp, V256>(ref ar, ref br, ref yr, i, n);
        }
        if (VectorLadder.Has128(path))
        {
            i = Body<TOp, V128>(ref ar, ref br, ref yr, i, n);
        }
        Body<TOp, VScalar>(ref ar, ref br, ref yr, i, n);
    }

    private static nuint Body<TOp, TVec>(ref float a, ref float b, ref float y, nuint i, nuint n)
        where TOp : IBinaryOperator
        where TVec : struct, IVec<TVec>
    {
        for (; i + (nuint)TVec.Count <= n; i += (nuint)TVec.Count)
        {
            TVec.Store(TOp.Invoke(TVec.Load(ref a, i), TVec.Load(ref b, i)), ref y, i);
        }
        return i;
    }
}
