namespace Lstm.Simd;

/// <summary>
/// An instruction-set path a kernel can run on; they compute the same algorithm, bit for bit. The values are names,
/// not a ranking (<see cref="Vector128"/> came last): prefer <see cref="SimdPaths.Available"/>'s order, never compare them.
/// </summary>
public enum SimdPath
{
    /// <summary>Plain C# with <see cref="MathF.FusedMultiplyAdd"/>: the twin every vector path is tested against.</summary>
    Scalar = 0,

    /// <summary><c>Vector256</c> with FMA (AVX2 + FMA3).</summary>
    Avx2 = 1,

    /// <summary><c>Vector512</c> (AVX-512F).</summary>
    Avx512 = 2,

    /// <summary>
    /// <c>Vector128</c> through the cross-platform API, with a fused multiply-add (NEON on ARM64; SSE with FMA3 on
    /// x86). Where an integer or 16-bit kernel has no 128-bit tile, it runs the scalar twin.
    /// </summary>
    Vector128 = 3,
}
