using System.Runtime.CompilerServices;
using Lstm.Simd.Vectors;

namespace Lstm.Simd.Activations;

/// <summary>
/// max(0, x) as PyTorch's CPU <c>relu</c> computes it (<c>maxps 0, x</c>): a NaN input is kept, and −0 stays −0
/// (x86 max returns its second operand when the two compare equal), so a NaN reaching a ReLU RNN is not hidden as 0.
/// </summary>
internal readonly struct ReluKeepNaN : IUnaryOperator
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec Invoke<TVec>(TVec x)
        where TVec : struct, IVec<TVec> => TVec.MaxKeepNaN(TVec.Create(0f), x);
}
