using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Lstm.Simd.Vectors;

namespace Lstm.Simd.Activations;

/// <summary>
/// The one loop driver for elementwise operators: whole vectors of the chosen width, then narrower vectors, then
/// scalars. Because every width computes bitwise the same values, the tail needs no masking or overlap tricks.
/// </summary>
internal static class UnaryLoop
{
    public static void Run<TOp>(ReadOnlySpan<float> x, Span<float> y, SimdPath path)
        where TOp : IUnaryOperator
    {
        Check.SameLength(x, nameof(x), y, nameof(y));
        Check.InPlaceOrDisjoint(x, nameof(x), y, nameof(y));
        ref float src = ref MemoryMarshal.GetReference(x);
        ref float dst = ref MemoryMarshal.GetReference(y);
        nuint n = (nuint)x.Length;
        nuint i = 0;
        if (path == SimdPath.Avx512)
        {
            i = Body<TOp, V512>(ref src, ref dst, i, n);
        }
        if (path >= SimdPath.Avx2)
        {
            i = Body<TOp, V256>(ref src, ref dst, i, n);
        }
        Body<TOp, VScalar>(ref src, ref dst, i, n);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
    private static nuint Body<TOp, TVec>(ref float src, ref float dst, nuint i, nuint n)
        where TOp : IUnaryOperator
        where TVec : struct, IVec<TVec>
    {
        nuint width = (nuint)TVec.Count;
        for (; i + width <= n; i += width)
        {
            TVec.Store(TOp.Invoke(TVec.Load(ref src, i)), ref dst, i);
        }
        return i;
    }
}
