namespace Lstm.Simd;

/// <summary>An instruction-set path a kernel can run on. Every kernel has all three; they compute the same algorithm.</summary>
public enum SimdPath
{
    /// <summary>Plain C# with <see cref="MathF.FusedMultiplyAdd"/>: the twin every vector path is tested against.</summary>
    Scalar = 0,

    /// <summary><c>Vector256</c> with FMA (AVX2 + FMA3).</summary>
    Avx2 = 1,

    /// <summary><c>Vector512</c> (AVX-512F).</summary>
    Avx512 = 2,
}
