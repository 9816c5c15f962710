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
        if (VectorLadder.Has512(path))
        {
            i = AlignDestination<TOp>(ref src, ref dst, n, inPlace: x.Overlaps(y));
            i = Body<TOp, V512>(ref src, ref dst, i, n);
        }
        if (VectorLadder.Has256(path))
        {
            i = Body<TOp, V256>(ref src, ref dst, i, n);
        }
        if (VectorLadder.Has128(path))
        {
            i = Body<TOp, V128>(ref src, ref dst, i, n);
        }
        Body<TOp, VScalar>(ref src, ref dst, i, n);
    }

    /// <summary>
    /// Computes the first elements so that the 64-byte stores of the main loop start on a cache-line boundary: a
    /// split store costs several times an aligned one here (sigmoid fell from 4.0 to 0.5 elements/ns on
    /// misaligned arrays). Out of place, one unaligned vector covers the head and the aligned loop recomputes the
    /// overlap (the same bits); in place, narrower vectors and scalars do it. Returns where the aligned loop starts.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe nuint AlignDestination<TOp>(ref float src, ref float dst, nuint n, bool inPlace)
        where TOp : IUnaryOperator
    {
        nuint width = (nuint)V512.Count;
        nuint misaligned = ((nuint)Unsafe.AsPointer(ref dst) % 64) / sizeof(float);
        if (misaligned == 0 || n < 2 * width)
        {
            return 0;
        }
        nuint head = width - misaligned;
        if (!inPlace)
        {
            V512.Store(TOp.Invoke(V512.Load(ref src, 0)), ref dst, 0);
            return head;
        }
        nuint i = Body<TOp, V256>(ref src, ref dst, 0, head);
        return Body<TOp, VScalar>(ref src, ref dst, i, head);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
    private static nuint Body<TOp, TVec>(ref float src, ref float dst, nuint i, nuint n)
        where TOp : IUnaryOperator
        where TVec : struct, IVec<TVec>
    {
        nuint width = (nuint)TVec.Count;
        // Four vectors per iteration: four independent dependency chains for the out-of-order core, a quarter of
        // the loop overhead. Each element's value is the same as in the one-vector loop below.
        for (; i + (4 * width) <= n; i += 4 * width)
        {
            TVec r0 = TOp.Invoke(TVec.Load(ref src, i));
            TVec r1 = TOp.Invoke(TVec.Load(ref src, i + width));
            TVec r2 = TOp.Invoke(TVec.Load(ref src, i + (2 * width)));
            TVec r3 = TOp.Invoke(TVec.Load(ref src, i + (3 * width)));
            TVec.Store(r0, ref dst, i);
            TVec.Store(r1, ref dst, i + width);
            TVec.Store(r2, ref dst, i + (2 * width));
            TVec.Store(r3, ref dst, i + (3 * width));
        }
        for (; i + width <= n; i += width)
        {
            TVec.Store(TOp.Invoke(TVec.Load(ref src, i)), ref dst, i);
        }
        return i;
    }
}
