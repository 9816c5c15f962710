using Lstm.Simd.Vectors;

namespace Lstm.Simd.Activations;

/// <summary>An elementwise function written once over <see cref="IVec{TSelf}"/>, so every path runs the same algorithm.</summary>
internal interface IUnaryOperator
{
    static abstract TVec Invoke<TVec>(TVec x)
        where TVec : struct, IVec<TVec>;
}
