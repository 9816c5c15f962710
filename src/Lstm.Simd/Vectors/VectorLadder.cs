namespace Lstm.Simd.Vectors;

/// <summary>
/// Which vector widths an elementwise loop runs on a path: the widest first, each leaving what does not fill one of
/// its vectors to the next, then the scalar twin (every width gives the same bits, so the tail needs no masking). The
/// one place that maps a <see cref="SimdPath"/> to widths, so a kernel never compares paths (their values are no
/// ranking). A kernel's dispatch is then one line per width:
/// <code>
/// if (VectorLadder.Has512(p)) j = Row&lt;V512&gt;(..., j);
/// if (VectorLadder.Has256(p)) j = Row&lt;V256&gt;(..., j);
/// if (VectorLadder.Has128(p)) j = Row&lt;V128&gt;(..., j);
/// Row&lt;VScalar&gt;(..., j);
/// </code>
/// </summary>
internal static class VectorLadder
{
    public static bool Has512(SimdPath path) => path == SimdPath.Avx512;

    public static bool Has256(SimdPath path) => path is SimdPath.Avx512 or SimdPath.Avx2;

    /// <summary>On the x86 paths too: their FMA3 runs 128-bit vectors, so tails of 4 to 7 floats take one vector.</summary>
    public static bool Has128(SimdPath path) => path is SimdPath.Avx512 or SimdPath.Avx2 or SimdPath.Vector128;
}
