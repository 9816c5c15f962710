using Lstm.Simd;

namespace Lstm.Core;

/// <summary>The Elman cell's nonlinearity, chosen once here for every caller (sequence, stream, threads): tanh or ReLU.</summary>
internal static class RnnActivation
{
    /// <summary>h = tanh(pre) or max(0, pre); in place allowed.</summary>
    public static void Forward(RecurrentOptions o, ReadOnlySpan<float> pre, Span<float> h, SimdPath path)
    {
        if (o.Nonlinearity == RnnNonlinearity.Relu)
        {
            ReluRnnCell.Forward(pre, h, path);
        }
        else
        {
            RnnCell.Forward(pre, h, path);
        }
    }

    /// <summary>dPre from dh and the forward output h.</summary>
    public static void Backward(RecurrentOptions o, ReadOnlySpan<float> h, ReadOnlySpan<float> dh, Span<float> dPre, SimdPath path)
    {
        if (o.Nonlinearity == RnnNonlinearity.Relu)
        {
            ReluRnnCell.Backward(h, dh, dPre, path);
        }
        else
        {
            RnnCell.Backward(h, dh, dPre, path);
        }
    }
}
