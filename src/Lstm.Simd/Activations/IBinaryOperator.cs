using Lstm.Simd.Vectors;

namespace Lstm.Simd.Activations;

/// <summary>An elementwise function of two inputs (an activation's output and the gradient reaching it), written once over <see cref="IVec{TSelf}"/>.</summary>
internal interface IBinaryOperator
{
    static abstract TVec Invoke<TVec>(TVec a, TVec b)
        where TVec : struct, IVec<TVec>;
}
