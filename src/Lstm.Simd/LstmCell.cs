using System.Runtime.InteropServices;
using Lstm.Simd.Cells;
using Lstm.Simd.Vectors;

namespace Lstm.Simd;

/// <summary>
/// The fused LSTM cell over a batch, forward and backward, in PyTorch gate order i, f, g, o.
/// Forward: i = σ(G_i [+ p_i⊙c']), f = σ(G_f [+ p_f⊙c']), g = tanh(G_g), c = f⊙c' + i⊙g, o = σ(G_o [+ p_o⊙c]),
/// h = o⊙tanh(c). The activations overwrite the gates: they are exactly what the backward pass needs (with c' and c).
/// </summary>
public static class LstmCell
{
    /// <summary>One step forward for <paramref name="batch"/> rows.</summary>
    /// <param name="gates">[B, 4H] pre-activations (input projection + recurrent projection + bias); overwritten with i, f, g, o.</param>
    /// <param name="batch">B.</param>
    /// <param name="hidden">H.</param>
    /// <param name="cPrev">[B, H] c_{t-1}.</param>
    /// <param name="c">[B, H] c_t, written.</param>
    /// <param name="h">[B, ldh] h_t, written (the first H of each row).</param>
    /// <param name="ldh">Row stride of <paramref name="h"/> (H, or D·H when writing into a bidirectional output).</param>
    /// <param name="options">Forget gate and peepholes.</param>
    /// <param name="peepholes">[3H] p_i, p_f, p_o when <see cref="LstmCellOptions.Peepholes"/>; else empty.</param>
    /// <param name="path">The SIMD path; <see cref="SimdPaths.Default"/> if null.</param>
    public static void Forward(Span<float> gates, int batch, int hidden, ReadOnlySpan<float> cPrev, Span<float> c, Span<float> h, int ldh,
        LstmCellOptions options, ReadOnlySpan<float> peepholes = default, SimdPath? path = null)
    {
        SimdPath p = SimdPaths.Resolve(path);
        CheckShapes(gates, batch, hidden, cPrev, c, options, peepholes);
        if (ldh < hidden)
        {
            throw new ArgumentOutOfRangeException(nameof(ldh), ldh, $"The row stride of h is {ldh}; expected at least H = {hidden}.");
        }
        Check.AtLeast(h, batch == 0 ? 0 : ((long)(batch - 1) * ldh) + hidden, nameof(h), batch, hidden, ldh);
        Check.Disjoint(cPrev, nameof(cPrev), c, nameof(c));

        var args = new LstmCellKernel.Forward
        {
            Gates = ref MemoryMarshal.GetReference(gates),
            CPrev = ref MemoryMarshal.GetReference(cPrev),
            C = ref MemoryMarshal.GetReference(c),
            H = ref MemoryMarshal.GetReference(h),
            Peep = ref MemoryMarshal.GetReference(peepholes),
            Ldh = ldh,
        };
        bool forget = options.ForgetGate, peep = options.Peepholes;
        for (nuint row = 0; row < (nuint)batch; row++)
        {
            nuint j = 0, n = (nuint)hidden;
            if (VectorLadder.Has512(p))
            {
                j = LstmCellKernel.ForwardRow<V512>(ref args, row, n, j, forget, peep);
            }
            if (VectorLadder.Has256(p))
            {
                j = LstmCellKernel.ForwardRow<V256>(ref args, row, n, j, forget, peep);
            }
            if (VectorLadder.Has128(p))
            {
                j = LstmCellKernel.ForwardRow<V128>(ref args, row, n, j, forget, peep);
            }
            LstmCellKernel.ForwardRow<VScalar>(ref args, row, n, j, forget, peep);
        }
    }

    /// <summary>One step backward for <paramref name="batch"/> rows.</summary>
    /// <param name="gates">[B, 4H] the activations i, f, g, o left by <see cref="Forward"/>.</param>
    /// <param name="batch">B.</param>
    /// <param name="hidden">H.</param>
    /// <param name="cPrev">[B, H] c_{t-1} of the forward step.</param>
    /// <param name="c">[B, H] c_t of the forward step.</param>
    /// <param name="dh">[B, H] the whole gradient reaching h_t.</param>
    /// <param name="dcNext">[B, H] the gradient reaching c_t from step t+1 (zeros, or dcn, at the last step).</param>
    /// <param name="dGates">[B, 4H] written: the gradient of the pre-activations.</param>
    /// <param name="dcPrev">[B, H] written: the gradient reaching c_{t-1}. May be the same span as <paramref name="dcNext"/>.</param>
    /// <param name="options">Forget gate and peepholes.</param>
    /// <param name="peepholes">[3H] peephole weights, or empty.</param>
    /// <param name="dPeepholes">[3H] accumulated: the peephole gradients summed over the batch; empty without peepholes.</param>
    /// <param name="path">The SIMD path; <see cref="SimdPaths.Default"/> if null.</param>
    public static void Backward(ReadOnlySpan<float> gates, int batch, int hidden, ReadOnlySpan<float> cPrev, ReadOnlySpan<float> c,
        ReadOnlySpan<float> dh, ReadOnlySpan<float> dcNext, Span<float> dGates, Span<float> dcPrev,
        LstmCellOptions options, ReadOnlySpan<float> peepholes = default, Span<float> dPeepholes = default, SimdPath? path = null)
    {
        SimdPath p = SimdPaths.Resolve(path);
        CheckShapes(gates, batch, hidden, cPrev, c, options, peepholes);
        long n = (long)batch * hidden;
        Check.Length(dh, n, nameof(dh), batch, hidden);
        Check.Length(dcNext, n, nameof(dcNext), batch, hidden);
        Check.Length(dcPrev, n, nameof(dcPrev), batch, hidden);
        Check.Length(dGates, 4 * n, nameof(dGates), batch, 4L * hidden);
        Check.InPlaceOrDisjoint(dcNext, nameof(dcNext), dcPrev, nameof(dcPrev));
        if (options.Peepholes)
        {
            Check.Length(dPeepholes, 3L * hidden, nameof(dPeepholes), 3L * hidden);
        }

        var args = new LstmCellKernel.Backward
        {
            Gates = ref MemoryMarshal.GetReference(gates),
            CPrev = ref MemoryMarshal.GetReference(cPrev),
            C = ref MemoryMarshal.GetReference(c),
            Dh = ref MemoryMarshal.GetReference(dh),
            DcNext = ref MemoryMarshal.GetReference(dcNext),
            DGates = ref MemoryMarshal.GetReference(dGates),
            DcPrev = ref MemoryMarshal.GetReference(dcPrev),
            Peep = ref MemoryMarshal.GetReference(peepholes),
            DPeep = ref MemoryMarshal.GetReference(dPeepholes),
        };
        bool forget = options.ForgetGate, peep = options.Peepholes;
        for (nuint row = 0; row < (nuint)batch; row++)
        {
            nuint j = 0, hn = (nuint)hidden;
            if (VectorLadder.Has512(p))
            {
                j = LstmCellKernel.BackwardRow<V512>(ref args, row, hn, j, forget, peep);
            }
            if (VectorLadder.Has256(p))
            {
                j = LstmCellKernel.BackwardRow<V256>(ref args, row, hn, j, forget, peep);
            }
            if (VectorLadder.Has128(p))
            {
                j = LstmCellKernel.BackwardRow<V128>(ref args, row, hn, j, forget, peep);
            }
            LstmCellKernel.BackwardRow<VScalar>(ref args, row, hn, j, forget, peep);
        }
    }

    private static void CheckShapes(ReadOnlySpan<float> gates, int batch, int hidden, ReadOnlySpan<float> cPrev, ReadOnlySpan<float> c,
        LstmCellOptions options, ReadOnlySpan<float> peepholes)
    {
        Check.NonNegative(batch, nameof(batch));
        Check.NonNegative(hidden, nameof(hidden));
        long n = (long)batch * hidden;
        Check.Length(gates, 4 * n, nameof(gates), batch, 4L * hidden);
        Check.Length(cPrev, n, nameof(cPrev), batch, hidden);
        Check.Length(c, n, nameof(c), batch, hidden);
        if (options.Peepholes)
        {
            Check.Length(peepholes, 3L * hidden, nameof(peepholes), 3L * hidden);
        }
    }
}
